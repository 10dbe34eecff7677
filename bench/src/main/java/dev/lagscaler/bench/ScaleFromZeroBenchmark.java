package dev.lagscaler.bench;

import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Scale-from-zero reaction on the real control plane and broker: time from the first record produced to the
 * target's spec.replicas >= 1, with lagscaler's fast activation polling and, in the same run, with polling at a
 * KEDA-style pollingInterval only. Arguments: activations (default 20), KEDA-style activations (default 5).
 */
public final class ScaleFromZeroBenchmark {
    public static void main(String[] args) throws Exception {
        run(args);
        // Informer and client threads of the in-process operator are not daemons: end the JVM once results are written.
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        int fastRuns = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int slowRuns = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode());
             LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
             KafkaProducer<String, String> producer = producer(kafka.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic("events", 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            drain(admin);
            List<Long> wake = run(plane, kafka, admin, producer, "wake-up", Duration.ofSeconds(1), 30, fastRuns, true);
            List<Long> fast = run(plane, kafka, admin, producer, "fast", Duration.ofSeconds(1), 30, fastRuns, false);
            List<Long> slow = run(plane, kafka, admin, producer, "keda-style", Duration.ofSeconds(30), 30, slowRuns, false);
            String md = "# Scale-from-zero benchmark\n\nRun " + Instant.now() + " on "
                    + Runtime.getRuntime().availableProcessors() + " cores: seed ScaledObject (pollingInterval 30 s),"
                    + " real KRaft broker, real kube-apiserver; time from the first record produced to the Deployment's"
                    + " spec.replicas >= 1.\n\n| polling while at zero | activations | p50 | p95 | max |\n|---|---|---|---|---|\n"
                    + row("wake-up consumer (lagscaler default), polling as the fallback", wake)
                    + row("fast activation polling only, 1 s", fast)
                    + row("pollingInterval only, 30 s (KEDA default)", slow)
                    + "\nRaw (ms): wake-up " + wake + "; fast " + fast + "; 30 s " + slow + ".\n";
            Files.writeString(results.resolve("wake-up.md"), md);
            System.out.println(md);
        }
    }

    private static List<Long> run(LocalControlPlane plane, EmbeddedKafka kafka, Admin admin,
                                  KafkaProducer<String, String> producer, String name, Duration fastInterval,
                                  int pollingInterval, int activations, boolean wakeUp) throws Exception {
        String ns = "bench-" + name;
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=0");
        ApiClient client = plane.apiClient();
        client.setReadTimeout(0);
        AppsV1Api apps = new AppsV1Api(plane.apiClient());
        List<Long> millis = new ArrayList<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(client, engine, OperatorConfig.defaults("bench-" + name)
                     .withNamespace("lagscaler-" + ns).withFastActivationInterval(fastInterval).withWakeUpConsumer(wakeUp))) {
            operator.start();
            Path so = Files.createTempFile("so-", ".yaml");
            Files.writeString(so, """
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledObject
                    metadata: {name: kafka-scaledobject}
                    spec:
                      scaleTargetRef: {name: consumer-deployment}
                      pollingInterval: %d
                      cooldownPeriod: 0
                      triggers:
                      - type: kafka
                        metadata: {bootstrapServers: "%s", consumerGroup: my-group, topic: events, lagThreshold: "50"}
                    """.formatted(pollingInterval, kafka.bootstrapServers()));
            plane.kubectl("-n", ns, "apply", "-f", so.toString());
            // Start measuring only once the operator has polled the trigger (Ready=True), not during its start-up.
            ChildProcess.await("the ScaledObject ready", Duration.ofSeconds(60), Duration.ofMillis(100), () -> plane.kubectl(
                    "-n", ns, "get", "scaledobject", "kafka-scaledobject",
                    "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").trim().equals("True"));
            for (int i = 0; i < activations; i++) {
                // Back at zero (drained, cooldown 0) and settled at the fast interval before each activation.
                ChildProcess.await("replicas 0", Duration.ofSeconds(120), Duration.ofMillis(50), () -> replicas(apps, ns) == 0);
                Thread.sleep(1500 + (long) (Math.random() * 1000));
                long start = System.nanoTime();
                producer.send(new ProducerRecord<>("events", i % 3, null, "record-" + i)).get();
                ChildProcess.await("replicas >= 1", Duration.ofSeconds(120), Duration.ofMillis(5), () -> replicas(apps, ns) >= 1);
                long ms = (System.nanoTime() - start) / 1_000_000;
                millis.add(ms);
                System.err.printf("[bench] %s activation %d: %d ms%n", name, i, ms);
                drain(admin);
            }
        }
        return millis;
    }

    private static int replicas(AppsV1Api apps, String ns) throws Exception {
        Integer r = apps.readNamespacedDeployment("consumer-deployment", ns).execute().getSpec().getReplicas();
        return r == null ? 0 : r;
    }

    /** Commits every partition's log-end offset for my-group: no lag left. */
    private static void drain(Admin admin) throws Exception {
        List<TopicPartition> partitions = List.of(new TopicPartition("events", 0), new TopicPartition("events", 1),
                new TopicPartition("events", 2));
        Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
        partitions.forEach(p -> latest.put(p, OffsetSpec.latest()));
        Map<TopicPartition, OffsetAndMetadata> commit = new java.util.HashMap<>();
        admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS)
                .forEach((p, info) -> commit.put(p, new OffsetAndMetadata(info.offset())));
        admin.alterConsumerGroupOffsets("my-group", commit).all().get(30, TimeUnit.SECONDS);
    }

    /** A producer that sends each record at once (no linger): the clock starts at the send. */
    static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        return new KafkaProducer<>(p);
    }

    private static String row(String name, List<Long> values) {
        if (values.isEmpty()) {
            return "| " + name + " | 0 | - | - | - |\n";
        }
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        long p50 = sorted.get((int) Math.ceil(0.50 * sorted.size()) - 1);
        long p95 = sorted.get((int) Math.ceil(0.95 * sorted.size()) - 1);
        return "| " + name + " | " + values.size() + " | " + p50 + " ms | " + p95 + " ms | " + sorted.get(sorted.size() - 1) + " ms |\n";
    }
}
