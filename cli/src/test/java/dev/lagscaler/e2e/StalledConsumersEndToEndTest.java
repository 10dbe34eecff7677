package dev.lagscaler.e2e;

import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.apply;
import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.consumerAndTopic;
import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.replicas;
import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.scaledObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * A stalled consumer group on the real control plane: records wait, nobody commits, and the real HPA, which would
 * add replicas for the backlog, is held at the count it has (the adapter serves the held value); the ScaledObject
 * says why (ConsumerHealthy=False, reason Stalled, a Warning Event). When commits move again the hold lifts and the
 * HPA scales on the lag.
 */
@WithKafka
@WithControlPlane
class StalledConsumersEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METRIC = "/apis/external.metrics.k8s.io/v1beta1/namespaces/stalled/s0-kafka-stalled-events"
            + "?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject";

    @Test
    void aStalledGroupIsHeldAtItsReplicasAndReleasedWhenCommitsMove(EmbeddedKafka kafka, LocalControlPlane plane)
            throws Exception {
        String ns = "stalled";
        String topic = "stalled-events";
        consumerAndTopic(plane, kafka, ns, topic, "stalled-group", 10);
        // Stalled after 3 s standing (the operator's default is a minute); polled every second.
        LagEngine.Options options = LagEngine.Options.defaults()
                .withConsumerHealth(new ConsumerHealth.Settings(10, Duration.ofSeconds(3), Duration.ofMinutes(5)));
        try (HpaStack stack = HpaStack.start(plane, "stalled", options)) {
            // Scale-up stabilization of 10 s: the HPA takes the lowest recommendation of the last 10 s, so the
            // seconds before the stall is judged cannot raise it; the held value keeps it there after.
            apply(plane, ns, scaledObject("""
                    pollingInterval: 1
                    minReplicaCount: 1
                    maxReplicaCount: 10
                    advanced:
                      horizontalPodAutoscalerConfig:
                        behavior:
                          scaleUp: {stabilizationWindowSeconds: 10, policies: [{type: Percent, value: 1000, periodSeconds: 1}]}
                    """, kafka.bootstrapServers(), "stalled-group", topic, "lagThreshold: \"50\""));
            ChildProcess.await("the HPA reads the metric", Duration.ofSeconds(60), Duration.ofMillis(500),
                    () -> plane.kubectl("-n", ns, "get", "hpa", "keda-hpa-kafka-scaledobject", "-o",
                            "jsonpath={.status.currentMetrics[0].external.current.averageValue}").equals("0"));
            ChildProcess.await("healthy", Duration.ofSeconds(30), Duration.ofMillis(500),
                    () -> consumerHealthy(plane, ns).path("status").asText().equals("True"));
            Thread.sleep(10_000); // a full stabilization window of recommendations for 1 replica

            // 400 records wait on 10 partitions (8 replicas at 50 each) and nobody commits.
            for (int p = 0; p < 10; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 40);
            }
            ChildProcess.await("ConsumerHealthy=False Stalled", Duration.ofSeconds(30), Duration.ofMillis(500),
                    () -> consumerHealthy(plane, ns).path("reason").asText().equals("Stalled"));
            JsonNode stalled = consumerHealthy(plane, ns);
            assertEquals("False", stalled.path("status").asText());
            assertTrue(stalled.path("message").asText().contains("replicas held at 1"), stalled.toString());
            assertTrue(plane.kubectl("-n", ns, "get", "events", "--field-selector", "reason=ConsumerStalled",
                    "-o", "name").contains("event"), "a Warning Event ConsumerStalled");
            // The HPA reads the held value (1 x lagThreshold over 1 pod), not the 400 records, and wants 1.
            ChildProcess.await("the HPA reads the held value", Duration.ofSeconds(60), Duration.ofMillis(500),
                    () -> plane.kubectl("-n", ns, "get", "hpa", "keda-hpa-kafka-scaledobject", "-o",
                            "jsonpath={.status.currentReplicas}/{.status.desiredReplicas}/{.status.currentMetrics[0].external.current.averageValue}")
                            .equals("1/1/50"));
            assertEquals(1, replicas(plane, ns), "held at 1 while the group stands, though 400 records wait");
            assertEquals("50", served(plane), "the adapter serves 1 x lagThreshold");

            // The consumer commits again, slowly (one record per partition every 2 s): the hold lifts and the
            // HPA follows the lag (about 250 records when its stabilization window has passed: 5 replicas).
            AtomicBoolean committing = new AtomicBoolean(true);
            Thread consumer = new Thread(() -> {
                for (long offset = 10; committing.get() && offset <= 40; offset++) {
                    Map<TopicPartition, Long> moved = new HashMap<>();
                    for (int p = 0; p < 10; p++) {
                        moved.put(new TopicPartition(topic, p), offset);
                    }
                    KafkaTestData.commit(kafka.bootstrapServers(), "stalled-group", moved);
                    try {
                        Thread.sleep(2000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            consumer.start();
            try {
                ChildProcess.await("the HPA raises the Deployment past 2", Duration.ofSeconds(60), Duration.ofMillis(500),
                        () -> replicas(plane, ns) >= 3);
                assertEquals("True", consumerHealthy(plane, ns).path("status").asText());
                assertTrue(plane.kubectl("-n", ns, "get", "events", "--field-selector", "reason=ConsumerHealthy",
                        "-o", "name").contains("event"), "a Normal Event ConsumerHealthy on recovery");
            } finally {
                committing.set(false);
                consumer.join(10_000);
            }
        }
    }

    private static JsonNode consumerHealthy(LocalControlPlane plane, String ns) throws Exception {
        JsonNode so = JSON.readTree(plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject", "-o", "json"));
        for (JsonNode c : so.path("status").path("conditions")) {
            if (c.path("type").asText().equals("ConsumerHealthy")) {
                return c;
            }
        }
        return JSON.createObjectNode();
    }

    private static String served(LocalControlPlane plane) throws Exception {
        return JSON.readTree(plane.kubectl("get", "--raw", METRIC)).path("items").get(0).path("value").asText();
    }
}
