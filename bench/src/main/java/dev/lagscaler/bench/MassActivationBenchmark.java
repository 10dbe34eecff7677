package dev.lagscaler.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lagscaler.adapter.AdapterMetrics;
import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.OperatorCommand;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.tls.Pki;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Mass activation: many targets at zero (1,000 by default, each with its own 3-partition topic and consumer group)
 * all receive records within about a second, 40 per partition, so each one's lag (120) asks for 3 replicas at
 * lagThreshold 50. Measured for each target from the broker's acknowledgement of its first record: when its
 * spec.replicas reaches 1 (the operator's own write) and 2 (the real HPA's, reading the metric through the adapter), seen through a watch
 * on the Deployments; and who wrote what in the window (kube-apiserver's request counts). lagscaler (one operator process with the
 * chart's JVM, the adapter beside it) and then KEDA built from source (bench/keda-binary.sh; its operator alone: its
 * metrics server is not built here, so only its activation is timed), each on its own fresh control plane with the
 * same broker and the same objects. Arguments: targets (1000), KEDA's home (~/.cache/lagscaler/keda-src). Writes
 * bench/results/mass-activation.md and .json.
 */
public final class MassActivationBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int RECORDS_PER_PARTITION = 40;
    /** How long an operator may take to make every object Ready (KEDA took more than 15 minutes for 1,000 here). */
    private static final Duration READY_WITHIN = Duration.ofMinutes(30);
    /** Halves left out of a run (-Dbench.skip=floor,keda), to try a change to lagscaler alone. */
    private static final List<String> SKIP = List.of(System.getProperty("bench.skip", "").split(","));
    /**
     * kube-controller-manager flags of a variant run (-Dbench.controllerManagerFlags="--kube-api-qps=200 ..."): its
     * clients send 20 requests a second by default, which paces the HPA controller's passes over 1,000 HPAs.
     */
    private static final List<String> CONTROLLER_MANAGER_FLAGS = words("bench.controllerManagerFlags");

    private MassActivationBenchmark() {
    }

    /** The space-separated words of a system property (none when it is unset or blank). */
    static List<String> words(String property) {
        return List.of(System.getProperty(property, "").trim().split(" +")).stream().filter(w -> !w.isEmpty()).toList();
    }

    public static void main(String[] args) throws Exception {
        int targets = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        Path kedaHome = Path.of(args.length > 1 ? args[1] : System.getProperty("user.home") + "/.cache/lagscaler/keda-src");
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("run", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("command", "bench/mass-activation.sh " + targets);
        report.put("controller_manager_flags", CONTROLLER_MANAGER_FLAGS.isEmpty() ? "defaults"
                : String.join(" ", CONTROLLER_MANAGER_FLAGS));
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withBrokers(3).withHeap("1g")
                .withOffsetsTopicPartitions(50))) {
            ScaleThousandsBenchmark.prepareKafka(kafka.bootstrapServers(), targets, targets, 3);
            report.put("lagscaler", measure("lagscaler", kafka, targets, null, (plane, work) -> {
                int feed = ChildProcess.freePort();
                List<String> command = new ArrayList<>(List.of(ChildProcess.javaExecutable()));
                command.addAll(List.of(IdleCostBenchmark.CHART_JVM.split(" ")));
                command.addAll(words("bench.operatorJavaOptions")); // a profiler's, for instance
                command.addAll(List.of("-cp", ChildProcess.absoluteClassPath(), OperatorCommand.class.getName(),
                        "--kubeconfig", plane.kubeconfig().toString(), "--namespace", "lagscaler-mass", "--identity", "mass",
                        "--metrics-feed", "127.0.0.1:" + feed, "--health-address", "off",
                        "--metrics-address", "127.0.0.1:" + ChildProcess.freePort(),
                        "--webhook-address", "off"));
                Process operator = ChildProcess.start(command, work, work.resolve("operator.log"));
                Pki.Issued ca = Pki.ca("mass-adapter-ca");
                // The aggregator checks the name of the Service the APIService names (LocalControlPlane.registerExternalMetrics).
                Pki.Issued serving = Pki.server(ca, "lagscaler-metrics", List.of("lagscaler-metrics.lagscaler-metrics.svc",
                        "localhost"), List.of("127.0.0.1"));
                MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), List.of(SocketAddress.inetSocketAddress(feed,
                        "127.0.0.1")), new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(),
                        serving.privateKeyPem()), new AdapterMetrics(new PrometheusRegistry()));
                plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
                return new Started(operator, adapter, null);
            }, true));
            // The floor on this machine: no operator, the benchmark itself writes /scale of each target the moment
            // its first record is acknowledged (16 writes at once). What is left is the control plane's own work.
            if (!SKIP.contains("floor")) {
                report.put("floor", measure("floor (the benchmark writes /scale on each acknowledgement)", kafka,
                        targets, null, (plane, work) -> {
                            ScaleWriter writer = new ScaleWriter(plane.apiClient(), "scale", 16);
                            return new Started(null, writer, writer::activate);
                        }, false));
            }
            Path kedaBinary = kedaHome.resolve("keda-operator");
            Path kedaCrds = kedaHome.resolve("keda/config/crd/bases");
            if (SKIP.contains("keda")) {
                report.put("keda", "not run (-Dbench.skip)");
            } else if (Files.isExecutable(kedaBinary) && Files.isDirectory(kedaCrds)) {
                IdleCostBenchmark.catchUp(kafka.bootstrapServers(), targets, targets, targets);
                try {
                    report.put("keda", measure("KEDA 2.21.0 (built from source)", kafka, targets, kedaCrds,
                            (plane, work) -> new Started(IdleCostBenchmark.startKeda(kedaBinary, plane, work), null, null),
                            false));
                } catch (java.io.IOException e) {
                    // Its objects not Ready in time: that is the figure, and lagscaler's half is kept.
                    report.put("keda", "not measured: " + e.getMessage());
                }
            } else {
                report.put("keda", "not run: no KEDA binary at " + kedaBinary + " (bench/keda-binary.sh builds it)");
            }
        }
        Files.writeString(results.resolve("mass-activation.json"), JSON.writeValueAsString(report));
        String md = markdown(report, targets);
        Files.writeString(results.resolve("mass-activation.md"), md);
        System.out.println(md);
        System.exit(0);
    }

    /**
     * What a measurement runs against: an operator process (null for the floor), what else to close after it, and what
     * to do with each target's first acknowledged record (null: nothing, the operator finds it).
     */
    private record Started(Process operator, AutoCloseable adapter, java.util.function.Consumer<String> onFirstRecord) {
    }

    /** Sets spec.replicas of Deployments to 1 through /scale, {@code threads} writes at once. */
    private static final class ScaleWriter implements AutoCloseable {
        private final io.kubernetes.client.openapi.apis.AppsV1Api apps;
        private final String namespace;
        private final java.util.concurrent.ExecutorService pool;

        ScaleWriter(io.kubernetes.client.openapi.ApiClient client, String namespace, int threads) {
            this.apps = new io.kubernetes.client.openapi.apis.AppsV1Api(client);
            this.namespace = namespace;
            this.pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        }

        void activate(String deployment) {
            pool.execute(() -> {
                try {
                    apps.replaceNamespacedDeploymentScale(deployment, namespace, new io.kubernetes.client.openapi.models.V1Scale()
                            .metadata(new io.kubernetes.client.openapi.models.V1ObjectMeta().name(deployment).namespace(namespace))
                            .spec(new io.kubernetes.client.openapi.models.V1ScaleSpec().replicas(1))).execute();
                } catch (io.kubernetes.client.openapi.ApiException e) {
                    BenchKafka.log("floor: /scale of %s failed: HTTP %d", deployment, e.getCode());
                }
            });
        }

        @Override
        public void close() {
            pool.shutdownNow();
        }
    }

    private interface Starter {
        Started start(LocalControlPlane plane, Path work) throws Exception;
    }

    private static Map<String, Object> measure(String name, EmbeddedKafka kafka, int targets, Path crdDir, Starter starter,
                                               boolean hpa) throws Exception {
        Path work = Files.createTempDirectory("mass-activation-");
        LocalControlPlane.Options options = (crdDir == null ? LocalControlPlane.Options.temporary()
                : new LocalControlPlane.Options(null, true, crdDir, false)).withControllerManagerFlags(CONTROLLER_MANAGER_FLAGS);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (LocalControlPlane plane = LocalControlPlane.start(options)) {
            plane.kubectl("create", "namespace", "scale");
            Started started = starter.start(plane, work);
            try {
                ScaleThousandsBenchmark.createObjects(plane, work, kafka.bootstrapServers(), targets, targets);
                if (started.operator() != null) { // the floor has no operator: nothing makes the objects Ready
                    awaitReady(name, plane, started.operator(), targets, work);
                }
                IdleCostBenchmark.awaitSettled(name, plane);
                Thread.sleep(10_000);
                ReplicaWatch watch = new ReplicaWatch(plane.apiClient(), "scale");
                watch.awaitSynced(Duration.ofMinutes(1));
                watch.reset();
                Map<String, Double> requestsBefore = ApiserverLoadBenchmark.scrape(plane);

                Sent sent = sendToEveryTopic(kafka.bootstrapServers(), targets, started.onFirstRecord());
                long sendStart = sent.start();
                // The targets have no pods (no kubelet here): their groups commit one record per partition every
                // 5 s, as slow live consumers would, so the lag stays high (3 replicas wanted) and a consumer health
                // check sees progress instead of a stalled group whose value it would hold.
                SlowConsumers consumers = SlowConsumers.start(kafka.bootstrapServers(), targets);
                figures.put("first_record_of_every_target_sent_in_ms", (sent.firstRound() - sendStart) / 1_000_000);
                figures.put("records_sent_in_ms", (sent.all() - sendStart) / 1_000_000);
                long deadline = sendStart + Duration.ofMinutes(hpa ? 6 : 4).toNanos();
                while (System.nanoTime() < deadline
                        && (watch.atOne().size() < targets || (hpa && watch.atTwo().size() < targets))) {
                    Thread.sleep(200);
                }
                watch.close();
                // From the broker's acknowledgement of each target's first record: when it was readable.
                Map<String, Long> atOne = sinceAcked(watch.atOne(), sent.ackedAt());
                Map<String, Long> atTwo = sinceAcked(watch.atTwo(), sent.ackedAt());
                consumers.close();
                figures.put("consumer_commit_rounds", consumers.rounds());
                figures.put("targets", targets);
                figures.put("at_least_1", summary(atOne, targets));
                if (hpa) {
                    figures.put("at_least_2", summary(atTwo, targets));
                }
                Map<String, Double> served = ApiserverLoadBenchmark.delta(requestsBefore, ApiserverLoadBenchmark.scrape(plane));
                Map<String, Long> writes = new LinkedHashMap<>();
                served.entrySet().stream().filter(e -> e.getValue() > 0 && !e.getKey().startsWith("GET")
                                && !e.getKey().startsWith("LIST") && !e.getKey().startsWith("WATCH") && !e.getKey().endsWith("leases"))
                        .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(12)
                        .forEach(e -> writes.put(e.getKey(), Math.round(e.getValue())));
                figures.put("apiserver_writes_in_window", writes);
                BenchKafka.log("%s: %s", name, figures);
                return figures;
            } finally {
                ChildProcess.stop(started.operator(), Duration.ofSeconds(10));
                if (started.adapter() != null) {
                    started.adapter().close();
                }
                if (Boolean.getBoolean("bench.keepLogs")) {
                    BenchKafka.log("%s: logs kept in %s", name, work);
                } else {
                    ChildProcess.deleteRecursively(work);
                }
            }
        }
    }

    /**
     * When the timed send started, when the first round (one record per target) and everything were acknowledged, and
     * when each target's first record was acknowledged (System.nanoTime, by Deployment name).
     */
    private record Sent(long start, long firstRound, long all, Map<String, Long> ackedAt) {
    }

    /**
     * One record to every target's topic first (what activates it), then the rest: 40 records to each partition in
     * all. The producer learns every topic's leaders before the clock starts (a first send to 1,000 unknown topics
     * otherwise waits on a metadata round trip each: 15 s here), so the first round goes out at once.
     */
    private static Sent sendToEveryTopic(String bootstrap, int targets, java.util.function.Consumer<String> onFirstRecord)
            throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int t = 0; t < targets; t++) {
                producer.partitionsFor("topic-" + t);
            }
            Map<String, Long> ackedAt = new java.util.concurrent.ConcurrentHashMap<>();
            long start = System.nanoTime();
            for (int t = 0; t < targets; t++) {
                String deployment = "consumer-" + t;
                producer.send(new ProducerRecord<>("topic-" + t, 0, null, "x"), (meta, e) -> {
                    if (e == null) {
                        ackedAt.put(deployment, System.nanoTime());
                        if (onFirstRecord != null) {
                            onFirstRecord.accept(deployment);
                        }
                    }
                });
            }
            producer.flush();
            long first = System.nanoTime();
            for (int t = 0; t < targets; t++) {
                for (int partition = 0; partition < 3; partition++) {
                    for (int r = partition == 0 ? 1 : 0; r < RECORDS_PER_PARTITION; r++) {
                        producer.send(new ProducerRecord<>("topic-" + t, partition, null, "x"));
                    }
                }
            }
            producer.flush();
            return new Sent(start, first, System.nanoTime(), ackedAt);
        }
    }

    /**
     * Every target's group (group-i on topic-i) committing one more record on each partition every 5 s, from where
     * it stood when started, until closed.
     */
    private static final class SlowConsumers implements AutoCloseable {
        private final org.apache.kafka.clients.admin.Admin admin;
        private final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        private final Map<String, Map<org.apache.kafka.common.TopicPartition, Long>> start = new HashMap<>();
        private final java.util.concurrent.atomic.AtomicInteger rounds = new java.util.concurrent.atomic.AtomicInteger();

        private SlowConsumers(String bootstrap, int targets) throws Exception {
            admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                    org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
            Map<String, org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec> groups = new HashMap<>();
            for (int t = 0; t < targets; t++) {
                groups.put("group-" + t, new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec());
            }
            admin.listConsumerGroupOffsets(groups).all().get(2, TimeUnit.MINUTES).forEach((group, offsets) -> {
                Map<org.apache.kafka.common.TopicPartition, Long> at = new HashMap<>();
                offsets.forEach((tp, o) -> at.put(tp, o == null ? 0 : o.offset()));
                start.put(group, at);
            });
        }

        static SlowConsumers start(String bootstrap, int targets) throws Exception {
            SlowConsumers c = new SlowConsumers(bootstrap, targets);
            c.timer.scheduleWithFixedDelay(c::commitRound, 5, 5, TimeUnit.SECONDS);
            return c;
        }

        private void commitRound() {
            int k = rounds.incrementAndGet();
            Map<String, Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata>> next =
                    new HashMap<>();
            start.forEach((group, at) -> {
                Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets =
                        new HashMap<>();
                at.forEach((tp, o) -> offsets.put(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(
                        Math.min(o + k, o + RECORDS_PER_PARTITION - 1))));
                next.put(group, offsets);
            });
            try {
                BenchKafka.commitUntilAccepted(admin, next, Duration.ofSeconds(1));
            } catch (Exception e) {
                BenchKafka.log("a slow consumers' round failed: %s", e);
            }
        }

        int rounds() {
            return rounds.get();
        }

        @Override
        public void close() {
            timer.shutdownNow();
            admin.close(Duration.ofSeconds(5));
        }
    }

    private static void awaitReady(String name, LocalControlPlane plane, Process operator, int targets, Path work)
            throws Exception {
        java.util.concurrent.atomic.AtomicLong readyCount = new java.util.concurrent.atomic.AtomicLong();
        try {
            ChildProcess.await(name + ": every ScaledObject Ready", READY_WITHIN, Duration.ofSeconds(2), () -> {
                if (!operator.isAlive()) {
                    throw new IllegalStateException(name + " exited; its log: " + work);
                }
                String ready = plane.kubectl("-n", "scale", "get", "scaledobjects",
                        "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}");
                readyCount.set(ready.lines().filter("True"::equals).count());
                return readyCount.get() == targets;
            });
        } catch (java.io.IOException e) {
            throw new java.io.IOException(readyCount.get() + " of " + targets + " ScaledObjects Ready after "
                    + READY_WITHIN.toMinutes() + " minutes", e);
        }
    }

    /** Deployment name → milliseconds from the acknowledgement of its first record to {@code reachedAt}. */
    private static Map<String, Long> sinceAcked(Map<String, Long> reachedAt, Map<String, Long> ackedAt) {
        Map<String, Long> ms = new HashMap<>();
        reachedAt.forEach((name, at) -> {
            Long acked = ackedAt.get(name);
            if (acked != null) {
                ms.put(name, Math.max(0, (at - acked) / 1_000_000));
            }
        });
        return ms;
    }

    /** When all reached it, and the 50th, 95th percentile and last of the targets that did (ms from each one's record). */
    private static Map<String, Object> summary(Map<String, Long> reached, int targets) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("reached", reached.size());
        if (!reached.isEmpty()) {
            List<Long> times = new ArrayList<>(reached.values());
            s.put("p50_ms", FaultFigures.percentile(times, 0.5));
            s.put("p95_ms", FaultFigures.percentile(times, 0.95));
            s.put("last_ms", times.stream().mapToLong(Long::longValue).max().orElse(0));
        }
        s.put("all", reached.size() == targets);
        return s;
    }

    @SuppressWarnings("unchecked")
    private static String markdown(Map<String, Object> report, int targets) {
        StringBuilder md = new StringBuilder("# Mass activation: " + targets + " targets at zero, records to all at once\n\n");
        md.append("Run ").append(report.get("run")).append(" on ").append(report.get("cores")).append(" cores: `")
                .append(report.get("command")).append("` (kube-controller-manager: ")
                .append(report.get("controller_manager_flags")).append("). Each target its own 3-partition topic and group, 40 records to"
                        + " each partition sent at once (lag 120, lagThreshold 50: 3 replicas wanted), each group then"
                        + " committing one record per partition every 5 s (slow live consumers); each target's times from"
                        + " the broker's acknowledgement of its own first record, seen through a watch on the"
                        + " Deployments. Each operator on its own fresh"
                        + " control plane with the same broker. *floor*: no operator; the benchmark writes each"
                        + " target's /scale (16 at once) as its first record is acknowledged, so what it measures is"
                        + " this machine's control plane (and the brokers beside it), the least any operator could"
                        + " take here.\n\n");
        md.append("| operator | one record per target acknowledged / all | spec.replicas >= 1: p50 / p95 / all | >= 2 (the HPA): p50 / p95 / all |\n|---|---|---|---|\n");
        for (String key : List.of("lagscaler", "floor", "keda")) {
            Object value = report.get(key);
            if (!(value instanceof Map)) {
                md.append("| ").append(key).append(" | ").append(value).append(" | | |\n");
                continue;
            }
            Map<String, Object> m = (Map<String, Object>) value;
            md.append("| ").append(key).append(" | ").append(m.get("first_record_of_every_target_sent_in_ms")).append(" ms / ")
                    .append(m.get("records_sent_in_ms")).append(" ms | ")
                    .append(times((Map<String, Object>) m.get("at_least_1"))).append(" | ")
                    .append(m.containsKey("at_least_2") ? times((Map<String, Object>) m.get("at_least_2")) : "(not measured)")
                    .append(" |\n");
        }
        md.append("\nWrites kube-apiserver served in the window (top):\n\n");
        for (String key : List.of("lagscaler", "floor", "keda")) {
            if (report.get(key) instanceof Map<?, ?> m) {
                md.append("- ").append(key).append(": ").append(m.get("apiserver_writes_in_window")).append('\n');
            }
        }
        return md.toString();
    }

    private static String times(Map<String, Object> s) {
        return s.get("p50_ms") + " ms / " + s.get("p95_ms") + " ms / "
                + (Boolean.TRUE.equals(s.get("all")) ? s.get("last_ms") + " ms" : "only " + s.get("reached") + " in time");
    }
}
