package dev.lagscaler.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricStore;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.testing.ChartRelease;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.LocalNode;
import dev.lagscaler.tls.Pki;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The demo's story on real parts: an embedded broker, the local control plane, the operator and the adapter; a
 * ScaledObject (min 0, max 12, 12 partitions); consumers that follow the Deployment ({@link PodRunner}); a producer
 * playing a traffic profile (idle → burst → steady → idle). It samples once a second, shows each sample, and ends
 * when the backlog is drained and the target is back at zero (or at {@code maxSeconds}), writing the report.
 *
 * <p>With a node ({@code lagscaler demo --node}) the same story runs as a user's cluster runs it: a real node
 * ({@link LocalNode}), the operator and the adapter installed as pods by the Helm chart ({@link ChartRelease}), and the
 * consumers as pods of the consumer image that the Deployment's replicas start and stop.
 */
public final class DemoRun implements AutoCloseable {
    public static final String NAMESPACE = "default";
    public static final String TOPIC = "events";
    public static final String GROUP = "my-group";
    public static final int PARTITIONS = 12;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The traffic and the consumers' speed; rates in records per second, durations in seconds.
     * {@code drainWithinSeconds} (null: off) puts lagscaler's drain-time sizing on the trigger.
     */
    public record Profile(int idleSeconds, int burstRate, int burstSeconds, int steadyRate, int steadySeconds,
                          int consumerRate, int lagThreshold, int cooldownSeconds, int maxSeconds, Integer drainWithinSeconds) {
        public static Profile standard() {
            return new Profile(8, 1500, 10, 250, 25, 150, 100, 15, 300, null);
        }

        /** About a minute of traffic and draining: the automated test's profile. */
        public static Profile quick() {
            return new Profile(3, 1200, 5, 150, 8, 200, 100, 5, 110, null);
        }

        Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("idleSeconds", idleSeconds);
            m.put("burstRate", burstRate);
            m.put("burstSeconds", burstSeconds);
            m.put("steadyRate", steadyRate);
            m.put("steadySeconds", steadySeconds);
            m.put("consumerRecordsPerSecond", consumerRate);
            m.put("lagThreshold", lagThreshold);
            m.put("cooldownSeconds", cooldownSeconds);
            if (drainWithinSeconds != null) {
                m.put("drainWithinSeconds", drainWithinSeconds);
            }
            m.put("partitions", PARTITIONS);
            return m;
        }
    }

    /** What the run saw. */
    public record Result(List<DemoSample> samples, Path json, Path png, long produced, long consumed, boolean completed) {
    }

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final boolean node;
    private volatile boolean closed;
    private LocalControlPlane plane;

    /** Everything started, in the order it is stopped (the reverse). */
    private <T extends AutoCloseable> T own(T resource) {
        resources.push(resource);
        return resource;
    }

    /** {@code node}: on a real node with the chart's pods; otherwise the operator, adapter and consumers run here. */
    public DemoRun(boolean node) {
        this.node = node;
    }

    public LocalControlPlane plane() {
        return plane;
    }

    /** What the demo reads from whichever runs the scaling and the consumers. */
    private interface Stack {
        /** The value the external metrics API serves for the trigger; null when there is none. */
        Double metricValue();

        /** Consumers running now. */
        int consumers() throws Exception;

        /** Records the consumers processed. */
        long consumed() throws Exception;
    }

    public Result run(Profile profile, Path outputDir, LiveView view, Consumer<String> story) throws Exception {
        long begin = System.nanoTime();
        EmbeddedKafka kafka;
        if (node) {
            story.accept("starting a local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) "
                    + "with a real node (containerd, kubelet, kube-proxy, CoreDNS) and an embedded Kafka broker (KRaft) "
                    + "on the node's address...");
            plane = own(LocalControlPlane.start(LocalControlPlane.Options.temporary().withNode(true)));
            kafka = own(EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withHost(LocalNode.ADDRESS)));
        } else {
            story.accept("starting an embedded Kafka broker (KRaft) and a local control plane (etcd, kube-apiserver, "
                    + "kube-controller-manager)...");
            kafka = own(EmbeddedKafka.start(EmbeddedKafka.Options.singleNode()));
            plane = own(LocalControlPlane.start(LocalControlPlane.Options.temporary()));
        }
        story.accept(String.format("  kafka %s, control plane %s (%.1f s)", kafka.bootstrapServers(), plane.url(),
                (System.nanoTime() - begin) / 1e9));
        String bootstrap = kafka.bootstrapServers();
        Admin admin = own(Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap)));
        admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            start.put(new TopicPartition(TOPIC, p), new OffsetAndMetadata(0));
        }
        admin.alterConsumerGroupOffsets(GROUP, start).all().get(30, TimeUnit.SECONDS);

        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("node", node);
        Stack stack = node ? onNode(bootstrap, profile, admin, facts, story) : inProcess(bootstrap, profile);
        Path manifest = Files.createTempFile(plane.directory(), "scaledobject-", ".yaml");
        Files.writeString(manifest, scaledObject(bootstrap, profile));
        plane.kubectl("apply", "-f", manifest.toString());
        story.accept("applied a ScaledObject (min 0, max 12, lagThreshold " + profile.lagThreshold() + ", cooldown "
                + profile.cooldownSeconds() + " s) on consumer-deployment; " + (node ? "consumer pods process " : "consumers follow its replicas at ")
                + profile.consumerRate() + " records/s each");

        ApiClient api = plane.apiClient();
        AppsV1Api apps = new AppsV1Api(api);
        Producer producer = own(new Producer(bootstrap, profile));

        List<DemoSample> samples = new ArrayList<>();
        long t0 = System.nanoTime();
        long lastProduced = 0;
        int lastReplicas = 0;
        boolean completed = false;
        int after = 0;
        producer.start();
        while (!closed) {
            Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - t0) / 1_000_000 % 1000));
            double seconds = Math.round((System.nanoTime() - t0) / 1e8) / 10.0;
            long produced = producer.sent.get();
            int replicas = replicas(apps);
            JsonNode status = scaledObjectStatus(api);
            DemoSample sample = new DemoSample(seconds, produced - lastProduced, lag(admin), stack.metricValue(),
                    hpaDesired(api), replicas, stack.consumers(), condition(status, "Active"), condition(status, "Fallback"));
            lastProduced = produced;
            samples.add(sample);
            if (lastReplicas == 0 && replicas > 0) {
                view.note(String.format("%6.0fs  activated: 0 → %d replicas (records waiting, the operator wrote /scale)",
                        seconds, replicas));
            } else if (lastReplicas > 0 && replicas == 0) {
                view.note(String.format("%6.0fs  scaled to zero: the backlog drained and the %d s cooldown passed",
                        seconds, profile.cooldownSeconds()));
            }
            lastReplicas = replicas;
            view.show(sample, producer.phase());
            if (completed || producer.finished() && replicas == 0 && sample.lag() == 0
                    && samples.stream().anyMatch(s -> s.replicas() > 0)) {
                completed = true;
                if (++after > 3) {
                    break; // a few seconds at zero, so the plot shows it stayed there
                }
            }
            if (seconds > profile.maxSeconds()) {
                view.note("stopping at " + profile.maxSeconds() + " s without reaching zero again");
                break;
            }
        }
        Files.createDirectories(outputDir);
        Path json = outputDir.resolve("demo-report.json");
        Path png = outputDir.resolve("demo-report.png");
        if (node) {
            facts.put("consumerPodsMax", samples.stream().mapToInt(DemoSample::consumers).max().orElse(0));
        }
        DemoReport.write(json, png, profile.describe(), facts, samples);
        return new Result(samples, json, png, producer.sent.get(), stack.consumed(), completed);
    }

    /** The operator and the adapter in this process, the consumers as threads ({@link PodRunner}). */
    private Stack inProcess(String bootstrap, Profile profile) throws Exception {
        Pki.Issued ca = Pki.ca("lagscaler-demo-adapter-ca");
        Pki.Issued serving = Pki.server(ca, "lagscaler-metrics", List.of("lagscaler-metrics.lagscaler-metrics.svc",
                "localhost"), List.of("127.0.0.1"));
        MetricsFeedServer feed = own(MetricsFeedServer.start("127.0.0.1", 0));
        // A short health window (5 polls of 2 s): the demo's phases last seconds, and drain-time sizing measures a
        // replica's rate from it.
        LagEngine engine = own(new LagEngine(LagEngine.Options.defaults()
                .withConsumerHealth(new ConsumerHealth.Settings(5, Duration.ofSeconds(60), Duration.ofMinutes(5)))));
        ApiClient watches = plane.apiClient();
        watches.setReadTimeout(0);
        Operator operator = own(new Operator(watches, engine, OperatorConfig.defaults("demo"), feed));
        MetricsAdapter adapter = own(MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem())));
        plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
        plane.kubectl("create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=0");
        operator.start();
        AppsV1Api apps = new AppsV1Api(plane.apiClient());
        PodRunner pods = own(new PodRunner(bootstrap, GROUP, TOPIC, profile.consumerRate(), () -> replicas(apps)).start());
        return new Stack() {
            @Override
            public Double metricValue() {
                return DemoRun.metricValue(adapter.store());
            }

            @Override
            public int consumers() {
                return pods.running();
            }

            @Override
            public long consumed() {
                return pods.consumed();
            }
        };
    }

    /**
     * The chart installed on the node (images built from deploy/*.Dockerfile), the consumers as pods of the consumer
     * image; the metric read through the APIService as the HPA reads it, the consumed records from the group's offsets.
     */
    private Stack onNode(String bootstrap, Profile profile, Admin admin, Map<String, Object> facts, Consumer<String> story)
            throws Exception {
        story.accept("building the images (dev/images.sh) and installing the chart (helm install, its defaults)...");
        ChartRelease release = ChartRelease.install(plane);
        facts.put("installToReadySeconds", release.installToReady().toMillis() / 1000.0);
        story.accept(String.format("  %s pods Ready, the APIService Available (%.1f s after helm install)",
                plane.kubectl("-n", ChartRelease.NAMESPACE, "get", "pods", "-o", "name").lines().count(),
                release.installToReady().toMillis() / 1000.0));
        Path deployment = Files.createTempFile(plane.directory(), "consumer-", ".yaml");
        Files.writeString(deployment, ChartRelease.consumerDeployment("consumer-deployment", bootstrap, GROUP, TOPIC,
                profile.consumerRate()));
        plane.kubectl("-n", NAMESPACE, "apply", "-f", deployment.toString());
        java.net.http.HttpClient http = plane.adminHttpClient();
        java.net.URI metric = java.net.URI.create(plane.url() + "/apis/external.metrics.k8s.io/v1beta1/namespaces/"
                + NAMESPACE + "/s0-kafka-" + TOPIC + "?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject");
        return new Stack() {
            @Override
            public Double metricValue() {
                try {
                    var response = http.send(java.net.http.HttpRequest.newBuilder(metric).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    JsonNode items = JSON.readTree(response.body()).path("items");
                    return response.statusCode() != 200 || items.isEmpty() ? null
                            : new io.kubernetes.client.custom.Quantity(items.get(0).path("value").asText())
                            .getNumber().doubleValue();
                } catch (Exception e) {
                    return null;
                }
            }

            @Override
            public int consumers() throws Exception {
                return plane.node().runningPods(NAMESPACE, "app=consumer-deployment");
            }

            @Override
            public long consumed() throws Exception {
                return admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
                        .values().stream().mapToLong(OffsetAndMetadata::offset).sum();
            }
        };
    }

    private static String scaledObject(String bootstrap, Profile profile) {
        return """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: kafka-scaledobject}
                spec:
                  scaleTargetRef: {name: consumer-deployment}
                  pollingInterval: 2
                  cooldownPeriod: %d
                  minReplicaCount: 0
                  maxReplicaCount: 12
                  advanced:
                    horizontalPodAutoscalerConfig:
                      behavior:
                        scaleUp: {stabilizationWindowSeconds: 0, policies: [{type: Pods, value: 4, periodSeconds: 2}]}
                        scaleDown: {stabilizationWindowSeconds: 4, policies: [{type: Pods, value: 3, periodSeconds: 2}]}
                  triggers:
                  - type: kafka
                    metadata:
                      bootstrapServers: "%s"
                      consumerGroup: %s
                      topic: %s
                      lagThreshold: "%d"
                %s""".formatted(profile.cooldownSeconds(), bootstrap, GROUP, TOPIC, profile.lagThreshold(),
                profile.drainWithinSeconds() == null ? ""
                        : "      drainWithinSeconds: \"" + profile.drainWithinSeconds() + "\"\n");
    }

    private static int replicas(AppsV1Api apps) {
        try {
            Integer r = apps.readNamespacedDeployment("consumer-deployment", NAMESPACE).execute().getSpec().getReplicas();
            return r == null ? 0 : r;
        } catch (ApiException e) {
            throw new IllegalStateException("reading consumer-deployment: HTTP " + e.getCode(), e);
        }
    }

    private static long lag(Admin admin) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            wanted.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
        }
        long lag = 0;
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(wanted).all().get(10, TimeUnit.SECONDS);
        for (var e : ends.entrySet()) {
            OffsetAndMetadata c = committed.get(e.getKey());
            lag += Math.max(0, e.getValue().offset() - (c == null ? 0 : c.offset()));
        }
        return lag;
    }

    private static Double metricValue(MetricStore store) {
        MetricStore.Value v = store.get(NAMESPACE, "kafka-scaledobject", "s0-kafka-" + TOPIC);
        return v == null || v.error() != null ? null : v.valueMilli() / 1000.0;
    }

    private static Integer hpaDesired(ApiClient api) {
        try {
            V2HorizontalPodAutoscaler hpa = new AutoscalingV2Api(api)
                    .readNamespacedHorizontalPodAutoscaler("keda-hpa-kafka-scaledobject", NAMESPACE).execute();
            return hpa.getStatus() == null ? null : hpa.getStatus().getDesiredReplicas();
        } catch (ApiException e) {
            return null;
        }
    }

    private static JsonNode scaledObjectStatus(ApiClient api) {
        try {
            Object so = new CustomObjectsApi(api).getNamespacedCustomObject("keda.sh", "v1alpha1", NAMESPACE,
                    "scaledobjects", "kafka-scaledobject").execute();
            return JSON.valueToTree(so).path("status");
        } catch (ApiException e) {
            return JSON.createObjectNode();
        }
    }

    private static boolean condition(JsonNode status, String type) {
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals(type)) {
                return c.path("status").asText().equals("True");
            }
        }
        return false;
    }

    /** Stops everything it started, last first; safe to call twice (the Ctrl-C hook and the normal end). */
    @Override
    public synchronized void close() {
        closed = true;
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                // Shutting down: the next resource still has to stop.
            }
        }
    }

    /** The traffic profile's producer: idle, burst, steady, idle; rate-limited in 100 ms steps. */
    private static final class Producer implements AutoCloseable {
        final AtomicLong sent = new AtomicLong();
        private final KafkaProducer<String, String> producer;
        private final Profile profile;
        private final Thread thread;
        private volatile String phase = "idle";
        private volatile boolean finished;
        private volatile boolean stopped;

        Producer(String bootstrap, Profile profile) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            this.producer = new KafkaProducer<>(p);
            this.profile = profile;
            this.thread = new Thread(this::play, "demo-producer");
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        String phase() {
            return phase;
        }

        boolean finished() {
            return finished;
        }

        private void play() {
            try {
                Thread.sleep(profile.idleSeconds() * 1000L);
                phase = "burst";
                send(profile.burstRate(), profile.burstSeconds());
                phase = "steady";
                send(profile.steadyRate(), profile.steadySeconds());
                phase = "idle, draining";
                finished = true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void send(int rate, int seconds) throws InterruptedException {
            long steps = seconds * 10L;
            long begin = System.nanoTime();
            for (long step = 0; step < steps && !stopped; step++) {
                for (int i = 0; i < rate / 10; i++) {
                    long n = sent.getAndIncrement();
                    producer.send(new ProducerRecord<>(TOPIC, (int) (n % PARTITIONS), null, "event-" + n));
                }
                long next = begin + (step + 1) * 100_000_000L;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            producer.flush();
        }

        @Override
        public void close() {
            stopped = true;
            thread.interrupt();
            producer.close(Duration.ofSeconds(2));
        }
    }
}
