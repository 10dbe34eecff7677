package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.testing.ChartRelease;
import dev.lagscaler.testing.Images;
import dev.lagscaler.testing.KafkaCluster;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A ScaledJob end to end on the real node, with the chart-installed operator: records arrive, the operator creates
 * Jobs from the queue length (lag / lagThreshold, capped at maxReplicaCount), the job-controller and the kubelet run
 * their pods (the consumer image in batch mode: it exits once idle), the pods drain the topic and complete; once
 * drained no new Job is made, and the finished Jobs beyond successfulJobsHistoryLimit are deleted.
 */
@Tag("node")
@WithControlPlane(node = true)
@WithKafka(onNode = true)
class ScaledJobNodeTest {
    private static final String NS = "batch";
    private static final String TOPIC = "invoices";
    private static final String GROUP = "invoice-jobs";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jobsRunOnTheNodeDrainTheTopicAndKeepTheirHistoryLimit(LocalControlPlane plane, KafkaCluster kafka) throws Exception {
        try (ChartRelease release = ChartRelease.install(plane)) {
            KafkaTestData.createTopic(kafka.bootstrapServers(), TOPIC, 4);
            plane.kubectl("create", "namespace", NS);
            ExternalMetricsEndToEndTest.apply(plane, NS, """
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledJob
                    metadata: {name: invoice-jobs}
                    spec:
                      pollingInterval: 2
                      maxReplicaCount: 3
                      successfulJobsHistoryLimit: 1
                      failedJobsHistoryLimit: 1
                      jobTargetRef:
                        backoffLimit: 0
                        template:
                          spec:
                            restartPolicy: Never
                            securityContext: {runAsNonRoot: true, runAsUser: 10001}
                            containers:
                            - name: consumer
                              image: %s
                              env:
                              - {name: KAFKA_BOOTSTRAP, value: "%s"}
                              - {name: KAFKA_GROUP, value: %s}
                              - {name: KAFKA_TOPIC, value: %s}
                              - {name: RECORDS_PER_SECOND, value: "400"}
                              - {name: EXIT_WHEN_IDLE_SECONDS, value: "5"}
                              resources: {requests: {cpu: 10m, memory: 96Mi}, limits: {memory: 256Mi}}
                      triggers:
                      - type: kafka
                        metadata: {bootstrapServers: "%s", consumerGroup: %s, topic: %s, lagThreshold: "500", offsetResetPolicy: earliest}
                    """.formatted(Images.CONSUMER, kafka.bootstrapServers(), GROUP, TOPIC, kafka.bootstrapServers(),
                    GROUP, TOPIC));
            NodeChecks.await(plane, "the ScaledJob Ready", Duration.ofSeconds(60), () -> plane.kubectl("-n", NS, "get",
                    "scaledjob", "invoice-jobs", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
                    .trim().equals("True"));
            assertEquals(0, jobs(plane).size(), "no records, no Job");

            for (int p = 0; p < 4; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), TOPIC, p, 1_000);
            }
            NodeChecks.await(plane, "Jobs created and a Job pod Running", Duration.ofSeconds(90),
                    () -> plane.node().runningPods(NS, "job-name") >= 1);
            int created = jobs(plane).size();
            assertTrue(created >= 1 && created <= 3, "4,000 records / 500 per Job, at most maxReplicaCount 3: " + created);
            NodeChecks.await(plane, "the topic drained by the Jobs' pods", Duration.ofSeconds(180),
                    () -> KafkaTestData.lag(kafka.bootstrapServers(), GROUP, TOPIC) == 0);
            NodeChecks.await(plane, "every Job finished, one kept (successfulJobsHistoryLimit)", Duration.ofSeconds(120),
                    () -> {
                JsonNode jobs = jobs(plane);
                for (JsonNode job : jobs) {
                    if (job.path("status").path("succeeded").asInt() != 1) {
                        return false;
                    }
                }
                return jobs.size() == 1;
            });
            // Drained: a poll saw no lag (Active=False), and it made no Job: the one kept is a finished one.
            NodeChecks.await(plane, "the ScaledJob inactive", Duration.ofSeconds(30), () -> plane.kubectl("-n", NS,
                    "get", "scaledjob", "invoice-jobs", "-o", "jsonpath={.status.conditions[?(@.type==\"Active\")].status}")
                    .trim().equals("False"));
            JsonNode left = jobs(plane);
            assertEquals(1, left.size(), "successfulJobsHistoryLimit 1: " + left);
            assertEquals(1, left.get(0).path("status").path("succeeded").asInt(), "the kept Job is a finished one");
            plane.kubectl("-n", NS, "delete", "scaledjob", "invoice-jobs", "--timeout=60s");
        }
    }

    private static JsonNode jobs(LocalControlPlane plane) throws Exception {
        return JSON.readTree(plane.kubectl("-n", NS, "get", "jobs", "-o", "json")).path("items");
    }
}
