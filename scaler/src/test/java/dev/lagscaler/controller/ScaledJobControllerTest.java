package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The ScaledJob controller on the real control plane and broker. The control plane has no kubelet (and runs no Job
 * controller): Jobs are made and never run, and the test completes them by status writes, as the issue allows until
 * the real node exists.
 */
@WithKafka
@WithControlPlane
class ScaledJobControllerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final EmbeddedKafka kafka;
    private final LocalControlPlane plane;
    private final OperatorTestSupport support;

    ScaledJobControllerTest(EmbeddedKafka kafka, LocalControlPlane plane) {
        this.kafka = kafka;
        this.plane = plane;
        this.support = new OperatorTestSupport(plane);
    }

    private List<JsonNode> jobs(String ns) throws Exception {
        List<JsonNode> jobs = new ArrayList<>();
        JSON.readTree(plane.kubectl("-n", ns, "get", "jobs", "-l", "scaledjob.keda.sh/name=kafka-batches", "-o", "json"))
                .path("items").forEach(jobs::add);
        return jobs;
    }

    private void complete(String ns, String job) throws Exception {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        plane.kubectl("-n", ns, "patch", "job", job, "--subresource=status", "--type=merge", "-p", """
                {"status":{"startTime":"%1$s","completionTime":"%1$s","succeeded":1,"conditions":[
                  {"type":"SuccessCriteriaMet","status":"True","lastTransitionTime":"%1$s"},
                  {"type":"Complete","status":"True","lastTransitionTime":"%1$s"}]}}""".formatted(now));
    }

    /**
     * The value of the kafka-batches ScaledJob's series of {@code family} (a counter's name without {@code _total}),
     * where {@code label} has {@code labelValue} (both null: the only series); NaN when absent.
     */
    private static double value(io.prometheus.metrics.model.registry.PrometheusRegistry registry, String family,
                                String label, String labelValue) {
        for (var snapshot : registry.scrape()) {
            if (!snapshot.getMetadata().getName().equals(family)) {
                continue;
            }
            for (var point : snapshot.getDataPoints()) {
                String name = point.getLabels().get("scaledjob") != null ? point.getLabels().get("scaledjob")
                        : point.getLabels().get("scaledJob");
                if ("kafka-batches".equals(name) && (label == null || labelValue.equals(point.getLabels().get(label)))) {
                    if (point instanceof io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot g) {
                        return g.getValue();
                    }
                    return ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) point).getValue();
                }
            }
        }
        return Double.NaN;
    }

    @Test
    void recordsMakeJobsTheLagDrainsAndHistoryIsTrimmed() throws Exception {
        String ns = "scaledjob";
        String topic = "scaledjob-events";
        plane.kubectl("create", "namespace", ns);
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 4);
        Map<TopicPartition, Long> start = new HashMap<>();
        for (int p = 0; p < 4; p++) {
            start.put(new TopicPartition(topic, p), 0L);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), "batches", start);
        var client = plane.apiClient();
        client.setReadTimeout(0); // the informers' watches stay open
        var registry = new io.prometheus.metrics.model.registry.PrometheusRegistry();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)));
             Operator operator = new Operator(client, client, engine, OperatorConfig.defaults("scaledjob-operator")
                     .withFastActivationInterval(Duration.ofMillis(500)), dev.lagscaler.metrics.MetricsSink.NONE,
                     new dev.lagscaler.metrics.OperatorMetrics(registry, false))) {
            operator.start();
            ChildProcess.await("leadership", Duration.ofSeconds(30), Duration.ofMillis(100), operator::isLeader);
            // KEDA's kafka ScaledJob example, unchanged but for the broker and the numbers.
            support.apply(ns, """
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledJob
                    metadata: {name: kafka-batches}
                    spec:
                      jobTargetRef:
                        parallelism: 1
                        completions: 1
                        backoffLimit: 4
                        template:
                          spec:
                            containers:
                            - {name: consumer, image: "consumer:1.0"}
                            restartPolicy: Never
                      pollingInterval: 2
                      maxReplicaCount: 10
                      successfulJobsHistoryLimit: 2
                      failedJobsHistoryLimit: 2
                      triggers:
                      - type: kafka
                        metadata: {bootstrapServers: "%s", consumerGroup: batches, topic: %s, lagThreshold: "10"}
                    """.formatted(kafka.bootstrapServers(), topic));
            ChildProcess.await("Ready and inactive", Duration.ofSeconds(30), Duration.ofMillis(100),
                    () -> support.get(ns, "scaledjob", "kafka-batches").path("status").path("conditions").toString()
                            .contains("ScalerNotActive"));
            assertEquals(0, jobs(ns).size(), "no records, no Jobs");

            for (int p = 0; p < 4; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), topic, p, p < 3 ? 9 : 8);
            }
            // 35 records at lagThreshold 10 a Job: 4 Jobs, and no more while they run.
            AtomicInteger most = new AtomicInteger();
            ChildProcess.await("4 Jobs", Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
                int n = jobs(ns).size();
                most.accumulateAndGet(n, Math::max);
                return n == 4;
            });
            // No kubelet runs their pods: pending by KEDA's rule, in the ScaledJob's series.
            ChildProcess.await("4 pending Jobs in the series", Duration.ofSeconds(30), Duration.ofMillis(100),
                    () -> value(registry, "lagscaler_scaledjob_jobs", "state", "pending") == 4);
            assertEquals(4, value(registry, "lagscaler_scaledjob_jobs_created", null, null), "created_total");
            assertEquals(35, value(registry, "lagscaler_scaledjob_queue_length", null, null));
            JsonNode job = jobs(ns).get(0);
            assertEquals("kafka-batches", job.path("metadata").path("ownerReferences").get(0).path("name").asText());
            assertEquals("consumer:1.0", job.path("spec").path("template").path("spec").path("containers").get(0)
                    .path("image").asText());
            String status = support.get(ns, "scaledjob", "kafka-batches").path("status").toString();
            ChildProcess.await("Active", Duration.ofSeconds(30), Duration.ofMillis(100),
                    () -> support.get(ns, "scaledjob", "kafka-batches").path("status").path("conditions").toString()
                            .contains("ScalerActive"));

            // The Jobs consume their share and commit; they complete.
            Map<TopicPartition, Long> done = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                done.put(new TopicPartition(topic, p), p < 3 ? 9L : 8L);
            }
            KafkaTestData.commit(kafka.bootstrapServers(), "batches", done);
            for (JsonNode j : jobs(ns)) {
                complete(ns, j.path("metadata").path("name").asText());
            }
            // Drained: inactive, no new Job; the history keeps the 2 newest completed Jobs.
            try {
                ChildProcess.await("history trimmed to 2 and inactive", Duration.ofSeconds(60), Duration.ofMillis(200), () -> {
                    int n = jobs(ns).size();
                    most.accumulateAndGet(n, Math::max);
                    return n == 2 && support.get(ns, "scaledjob", "kafka-batches").path("status").path("conditions")
                            .toString().contains("ScalerNotActive");
                });
            } catch (java.io.IOException e) {
                throw new AssertionError(e.getMessage() + "; jobs: " + plane.kubectl("-n", ns, "get", "jobs", "-o",
                        "jsonpath={range .items[*]}{.metadata.name} {.status.conditions[*].type};{end}") + " status: "
                        + support.get(ns, "scaledjob", "kafka-batches").path("status"), e);
            }
            assertEquals(4, most.get(), "never more than the 4 Jobs the lag asked for (before: " + status + ")");
            ChildProcess.await("the series: 2 succeeded kept, none running", Duration.ofSeconds(30), Duration.ofMillis(100),
                    () -> value(registry, "lagscaler_scaledjob_jobs", "state", "succeeded") == 2
                            && value(registry, "lagscaler_scaledjob_jobs", "state", "pending") == 0
                            && value(registry, "lagscaler_scaledjob_jobs", "state", "running") == 0);
            assertEquals(4, value(registry, "lagscaler_scaledjob_jobs_created", null, null), "created_total, once each");
            assertEquals(0, value(registry, "lagscaler_scaledjob_condition", "condition", "Active"));
            assertEquals(1, value(registry, "lagscaler_scaledjob_condition", "condition", "Ready"));
            assertEquals(0, value(registry, "keda_scaled_job_errors", null, null), "KEDA's error counter, at zero");
            // KEDA's series name the ScaledJob as KEDA does: type scaledjob, its own name.
            List<String> kedaSeries = new ArrayList<>();
            for (var snapshot : registry.scrape()) {
                if (snapshot.getMetadata().getName().equals("keda_scaler_active")) {
                    snapshot.getDataPoints().forEach(p -> kedaSeries.add(p.getLabels().get("scaledObject") + "/"
                            + p.getLabels().get("type")));
                }
            }
            assertTrue(kedaSeries.contains("kafka-batches/scaledjob"), kedaSeries.toString());
            String table = plane.kubectl("-n", ns, "get", "sj");
            assertTrue(table.lines().findFirst().orElse("").contains("TRIGGERS"), table);
            assertTrue(table.contains("kafka"), table);
            String events = plane.kubectl("-n", ns, "get", "events", "--field-selector",
                    "involvedObject.name=kafka-batches", "-o", "jsonpath={.items[*].reason}");
            assertTrue(events.contains("KEDAJobsCreated") && events.contains("ScaledJobActive"), events);
        }
    }
}
