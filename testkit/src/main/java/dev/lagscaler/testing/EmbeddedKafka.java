package dev.lagscaler.testing;

import dev.lagscaler.tls.Pki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real KRaft Kafka cluster of 1..n combined broker+controller nodes, each a child JVM running {@code kafka.Kafka}
 * from Maven Central's kafka_2.13 on this JVM's classpath, listening on loopback. Nodes can be stopped and started
 * again (for outage tests); {@link #close()} and a shutdown hook stop every node and delete the temp dirs.
 */
public final class EmbeddedKafka implements KafkaCluster {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String BROKER_LOG4J = """
            <Configuration status="warn">
              <Appenders><File name="f" fileName="${sys:kafka.logs.dir}/server.log"><PatternLayout pattern="%d %p %c{1} %m%n"/></File></Appenders>
              <Loggers><Root level="warn"><AppenderRef ref="f"/></Root></Loggers>
            </Configuration>
            """;

    /**
     * How to build the cluster. SCRAM users get a SASL listener beside the PLAINTEXT one: SASL_PLAINTEXT, or SASL_SSL
     * with {@code saslTls} (a serving certificate for 127.0.0.1 signed by the cluster's own CA, see {@link #caPem()}).
     */
    public record Options(int brokers, int offsetsTopicPartitions, String heap, Map<String, String> scramUsers,
                          Map<String, String> extraProperties, boolean saslTls, Kerberos kerberos,
                          String host) {
        public Options {
            scramUsers = Map.copyOf(scramUsers);
            extraProperties = Map.copyOf(extraProperties);
        }

        public static Options singleNode() {
            return new Options(1, 10, "512m", Map.of(), Map.of(), false, null, "127.0.0.1");
        }

        public Options withBrokers(int n) {
            return new Options(n, offsetsTopicPartitions, heap, scramUsers, extraProperties, saslTls, kerberos, host);
        }

        public Options withScramUsers(Map<String, String> users) {
            return new Options(brokers, offsetsTopicPartitions, heap, users, extraProperties, saslTls, kerberos, host);
        }

        /** The SCRAM listener speaks TLS (SASL_SSL). */
        public Options withSaslTls(boolean tls) {
            return new Options(brokers, offsetsTopicPartitions, heap, scramUsers, extraProperties, tls, kerberos, host);
        }

        /** A SASL_PLAINTEXT listener with GSSAPI, advertised as {@code localhost} (see {@link #gssapiBootstrapServers()}). */
        public Options withKerberos(Kerberos k) {
            return new Options(brokers, offsetsTopicPartitions, heap, scramUsers, extraProperties, saslTls, k, host);
        }

        /** Broker properties set on every node after the kit's own (an authorizer, super users, ...). */
        public Options withExtraProperties(Map<String, String> properties) {
            return new Options(brokers, offsetsTopicPartitions, heap, scramUsers, properties, saslTls, kerberos, host);
        }

        /**
         * ACLs enforced by {@code StandardAuthorizer}: what no ACL names is allowed to everyone, and the PLAINTEXT
         * listener's user (the kit's own setup, the brokers and the controller) is a super user, so ACLs bind the
         * SASL users only (see {@link #denyGroup}).
         */
        public Options withAclAuthorizer() {
            Map<String, String> properties = new java.util.HashMap<>(extraProperties);
            properties.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            properties.put("super.users", "User:ANONYMOUS");
            properties.put("allow.everyone.if.no.acl.found", "true");
            return withExtraProperties(properties);
        }

        public Options withHeap(String newHeap) {
            return new Options(brokers, offsetsTopicPartitions, newHeap, scramUsers, extraProperties, saslTls, kerberos, host);
        }

        /**
         * The PLAINTEXT listener binds and advertises {@code address} instead of loopback: a node's pods reach the
         * broker at the node's address ({@link LocalNode#ADDRESS}).
         */
        public Options withHost(String address) {
            return new Options(brokers, offsetsTopicPartitions, heap, scramUsers, extraProperties, saslTls, kerberos, address);
        }

        public Options withOffsetsTopicPartitions(int n) {
            return new Options(brokers, n, heap, scramUsers, extraProperties, saslTls, kerberos, host);
        }
    }

    /**
     * The broker's Kerberos identity: the KDC's krb5.conf, a keytab holding {@code principal}
     * ({@code kafka/localhost@REALM}: clients name the service after the host they connect to).
     */
    public record Kerberos(Path krb5Conf, Path keytab, String principal) {
    }

    private final Options options;
    private final Path root;
    private final List<Node> nodes = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::stopAll, "embedded-kafka-shutdown");
    private volatile Duration startupTime = Duration.ZERO;
    private final Pki.Issued ca = Pki.ca("lagscaler-embedded-kafka-ca");

    private record Node(int id, int port, int saslPort, int gssapiPort, int controllerPort, Path dir, Process[] process) {
    }

    private EmbeddedKafka(Options options, Path root) {
        this.options = options;
        this.root = root;
    }

    public static EmbeddedKafka start(Options options) throws IOException {
        Path root = Files.createTempDirectory("lagscaler-kafka-");
        EmbeddedKafka kafka = new EmbeddedKafka(options, root);
        Runtime.getRuntime().addShutdownHook(kafka.shutdownHook);
        try {
            kafka.startAll();
            return kafka;
        } catch (IOException | RuntimeException e) {
            kafka.close();
            throw e;
        }
    }

    private void startAll() throws IOException {
        Instant begin = Instant.now();
        String clusterId = Uuid.randomUuid().toString();
        for (int i = 1; i <= options.brokers(); i++) {
            int saslPort = options.scramUsers().isEmpty() ? -1 : ChildProcess.freePort();
            int gssapiPort = options.kerberos() == null ? -1 : ChildProcess.freePort();
            nodes.add(new Node(i, ChildProcess.freePort(), saslPort, gssapiPort, ChildProcess.freePort(),
                    Files.createDirectories(root.resolve("node-" + i)), new Process[1]));
        }
        StringJoiner voters = new StringJoiner(",");
        for (Node n : nodes) {
            voters.add(n.id() + "@127.0.0.1:" + n.controllerPort());
        }
        for (Node n : nodes) {
            writeConfig(n, voters.toString());
            format(n, clusterId);
        }
        for (Node n : nodes) {
            launch(n);
        }
        awaitReady(Duration.ofSeconds(90));
        startupTime = Duration.between(begin, Instant.now());
        LOG.atInfo().addKeyValue("brokers", nodes.size()).addKeyValue("bootstrap", bootstrapServers())
                .addKeyValue("startup_ms", startupTime.toMillis()).log("kafka started");
    }

    private void writeConfig(Node n, String voters) throws IOException {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", String.valueOf(n.id()));
        p.setProperty("controller.quorum.voters", voters);
        StringJoiner listeners = new StringJoiner(",");
        StringJoiner advertised = new StringJoiner(",");
        listeners.add("PLAINTEXT://" + options.host() + ":" + n.port());
        advertised.add("PLAINTEXT://" + options.host() + ":" + n.port());
        String protocolMap = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT";
        if (n.saslPort() > 0) {
            String protocol = options.saslTls() ? "SASL_SSL" : "SASL_PLAINTEXT";
            String listener = protocol.toLowerCase(java.util.Locale.ROOT);
            listeners.add(protocol + "://127.0.0.1:" + n.saslPort());
            advertised.add(protocol + "://127.0.0.1:" + n.saslPort());
            protocolMap += "," + protocol + ":" + protocol;
            p.setProperty("sasl.enabled.mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512");
            for (String mechanism : List.of("scram-sha-256", "scram-sha-512")) {
                p.setProperty("listener.name." + listener + "." + mechanism + ".sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            }
            if (options.saslTls()) {
                // A file-based PEM keystore: the private key and the certificate chain in one file.
                Pki.Issued serving = Pki.server(ca, "kafka-" + n.id(), List.of("localhost"), List.of("127.0.0.1"));
                Path keystore = n.dir().resolve("keystore.pem");
                Files.writeString(keystore, serving.privateKeyPem() + serving.certificatePem() + ca.certificatePem());
                p.setProperty("listener.name." + listener + ".ssl.keystore.type", "PEM");
                p.setProperty("listener.name." + listener + ".ssl.keystore.location", keystore.toString());
            }
        }
        if (n.gssapiPort() > 0) {
            listeners.add("GSSAPI://127.0.0.1:" + n.gssapiPort());
            advertised.add("GSSAPI://localhost:" + n.gssapiPort());
            protocolMap += ",GSSAPI:SASL_PLAINTEXT";
            p.setProperty("listener.name.gssapi.sasl.enabled.mechanisms", "GSSAPI");
            p.setProperty("listener.name.gssapi.sasl.kerberos.service.name", "kafka");
            p.setProperty("listener.name.gssapi.gssapi.sasl.jaas.config",
                    "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\""
                            + options.kerberos().keytab() + "\" principal=\"" + options.kerberos().principal() + "\";");
        }
        listeners.add("CONTROLLER://127.0.0.1:" + n.controllerPort());
        p.setProperty("listeners", listeners.toString());
        p.setProperty("advertised.listeners", advertised.toString());
        p.setProperty("listener.security.protocol.map", protocolMap);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("log.dirs", n.dir().resolve("data").toString());
        String replication = String.valueOf(Math.min(3, options.brokers()));
        p.setProperty("offsets.topic.replication.factor", replication);
        p.setProperty("offsets.topic.num.partitions", String.valueOf(options.offsetsTopicPartitions()));
        p.setProperty("transaction.state.log.replication.factor", replication);
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("share.coordinator.state.topic.replication.factor", replication);
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("auto.create.topics.enable", "false");
        p.setProperty("num.partitions", "1");
        p.setProperty("log.segment.bytes", String.valueOf(16 * 1024 * 1024));
        p.setProperty("controlled.shutdown.enable", "true");
        p.putAll(options.extraProperties());
        try (var out = Files.newBufferedWriter(n.dir().resolve("server.properties"))) {
            p.store(out, "lagscaler embedded kafka node " + n.id());
        }
        Files.writeString(n.dir().resolve("log4j2.xml"), BROKER_LOG4J);
    }

    private void format(Node n, String clusterId) throws IOException {
        List<String> command = javaCommand(n, "kafka.tools.StorageTool");
        command.addAll(List.of("format", "-t", clusterId, "-c", n.dir().resolve("server.properties").toString()));
        options.scramUsers().forEach((user, password) -> {
            for (String mechanism : List.of("SCRAM-SHA-256", "SCRAM-SHA-512")) {
                command.add("--add-scram");
                command.add(mechanism + "=[name=" + user + ",password=" + password + "]");
            }
        });
        ChildProcess.run(command, n.dir(), n.dir().resolve("format.log"), Duration.ofSeconds(60));
    }

    private void launch(Node n) throws IOException {
        List<String> command = javaCommand(n, "kafka.Kafka");
        command.add(n.dir().resolve("server.properties").toString());
        n.process()[0] = ChildProcess.start(command, n.dir(), n.dir().resolve("stdout.log"));
    }

    private List<String> javaCommand(Node n, String mainClass) {
        List<String> command = new ArrayList<>(List.of(ChildProcess.javaExecutable(),
                "-Xmx" + options.heap(), "-XX:+UseSerialGC",
                "-Djava.awt.headless=true",
                "-Dkafka.logs.dir=" + n.dir(),
                "-Dlog4j2.configurationFile=" + n.dir().resolve("log4j2.xml"),
                "-cp", ChildProcess.absoluteClassPath(),
                mainClass));
        if (options.kerberos() != null) {
            command.add(1, "-Djava.security.krb5.conf=" + options.kerberos().krb5Conf());
        }
        return command;
    }

    private void awaitReady(Duration timeout) throws IOException {
        ChildProcess.await("Kafka nodes listening", timeout, Duration.ofMillis(100), () -> {
            for (Node n : nodes) {
                if (!n.process()[0].isAlive()) {
                    throw new IOException("kafka node " + n.id() + " exited with " + n.process()[0].exitValue()
                            + ":\n" + ChildProcess.tail(n.dir().resolve("server.log"), 30)
                            + ChildProcess.tail(n.dir().resolve("stdout.log"), 30));
                }
            }
            return nodes.stream().allMatch(n -> ChildProcess.portOpen(options.host(), n.port()));
        });
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000"))) {
            ChildProcess.await("all " + nodes.size() + " brokers registered", timeout, Duration.ofMillis(100),
                    () -> admin.describeCluster().nodes().get().size() == nodes.size());
        }
    }

    @Override
    public String bootstrapServers() {
        StringJoiner joiner = new StringJoiner(",");
        nodes.forEach(n -> joiner.add(options.host() + ":" + n.port()));
        return joiner.toString();
    }

    /** The PEM certificate of the CA that signed the SASL_SSL listener's certificates (for clients to trust). */
    public String caPem() {
        return ca.certificatePem();
    }

    /** The SASL (SCRAM) bootstrap servers, plaintext or TLS by the options; only when the cluster has SCRAM users. */
    public String saslBootstrapServers() {
        if (options.scramUsers().isEmpty()) {
            throw new IllegalStateException("this cluster has no SCRAM users, so no SASL listener");
        }
        StringJoiner joiner = new StringJoiner(",");
        nodes.forEach(n -> joiner.add("127.0.0.1:" + n.saslPort()));
        return joiner.toString();
    }

    /** The GSSAPI (Kerberos) bootstrap servers, as {@code localhost:<port>}; only with {@link Options#withKerberos}. */
    public String gssapiBootstrapServers() {
        if (options.kerberos() == null) {
            throw new IllegalStateException("this cluster has no Kerberos listener");
        }
        StringJoiner joiner = new StringJoiner(",");
        nodes.forEach(n -> joiner.add("localhost:" + n.gssapiPort()));
        return joiner.toString();
    }

    /** Denies SASL user {@code user} every operation on consumer group {@code group} (needs {@link Options#withAclAuthorizer}). */
    public void denyGroup(String user, String group) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.GROUP, group, PatternType.LITERAL),
                    new AccessControlEntry("User:" + user, "*", AclOperation.ALL, AclPermissionType.DENY))))
                    .all().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not deny group " + group + " to " + user + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int brokerCount() {
        return nodes.size();
    }

    public Duration startupTime() {
        return startupTime;
    }

    /** Stops every node (as a broker outage would), keeping their data for {@link #restart()}. */
    public void stop() {
        for (Node n : nodes) {
            ChildProcess.stop(n.process()[0], Duration.ofSeconds(20));
        }
        LOG.atInfo().addKeyValue("bootstrap", bootstrapServers()).log("kafka stopped");
    }

    /** Kills one node with SIGKILL (as a crashed broker), keeping its data for {@link #restart()}. */
    public void killNode(int nodeId) {
        for (Node n : nodes) {
            if (n.id() == nodeId) {
                n.process()[0].destroyForcibly();
                try {
                    n.process()[0].waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                LOG.atInfo().addKeyValue("node", nodeId).log("kafka node killed");
                return;
            }
        }
        throw new IllegalArgumentException("no node " + nodeId);
    }

    /** Starts the stopped or killed nodes again on the same ports and data ({@link #stop()}, {@link #killNode}). */
    public void restart() {
        try {
            for (Node n : nodes) {
                if (n.process()[0] == null || !n.process()[0].isAlive()) {
                    launch(n);
                }
            }
            awaitReady(Duration.ofSeconds(90));
            LOG.atInfo().addKeyValue("bootstrap", bootstrapServers()).log("kafka restarted");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void stopAll() {
        for (Node n : nodes) {
            ChildProcess.stop(n.process()[0], Duration.ofSeconds(15));
        }
        ChildProcess.deleteRecursively(root);
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is running or ran.
        }
    }
}
