package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * advanced.scalingModifiers end to end: the real HPA scales on the formula's one composite metric, served by the
 * adapter, and not on each trigger's own lag.
 */
@WithKafka
@WithControlPlane
class ScalingModifiersEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theHpaScalesOnTheFormulaNotOnEachTrigger(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "composite";
        ExternalMetricsEndToEndTest.consumerAndTopic(plane, kafka, ns, "composite-orders", "composite-group", 4);
        KafkaTestData.createTopic(kafka.bootstrapServers(), "composite-refunds", 4);
        Map<TopicPartition, Long> start = new HashMap<>();
        for (int p = 0; p < 4; p++) {
            start.put(new TopicPartition("composite-refunds", p), 0L);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), "composite-group", start);

        try (HpaStack stack = HpaStack.start(plane, "composite", LagEngine.Options.defaults())) {
            ExternalMetricsEndToEndTest.apply(plane, ns, """
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledObject
                    metadata: {name: kafka-scaledobject}
                    spec:
                      scaleTargetRef: {name: consumer-deployment}
                      pollingInterval: 2
                      minReplicaCount: 1
                      maxReplicaCount: 10
                      advanced:
                        scalingModifiers: {formula: "(orders + refunds) / 2", target: "10", activationTarget: "1"}
                    %s
                      triggers:
                      - type: kafka
                        name: orders
                        metadata: {bootstrapServers: "%s", consumerGroup: composite-group, topic: composite-orders, lagThreshold: "50"}
                      - type: kafka
                        name: refunds
                        metadata: {bootstrapServers: "%s", consumerGroup: composite-group, topic: composite-refunds, lagThreshold: "50"}
                    """.formatted(ExternalMetricsEndToEndTest.FAST_HPA.replace("advanced:\n", "").indent(2).stripTrailing(),
                    kafka.bootstrapServers(), kafka.bootstrapServers()));
            for (int p = 0; p < 4; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), "composite-orders", p, 10);
            }
            // (40 + 0) / 2 = 20 against a target of 10: two replicas. Each trigger on its own (lagThreshold 50) would
            // have asked for one.
            try {
                ChildProcess.await("the HPA settles on 2 replicas", Duration.ofSeconds(120), Duration.ofMillis(500),
                        () -> ExternalMetricsEndToEndTest.replicas(plane, ns) == 2 && hpaDesired(plane, ns) == 2);
            } catch (java.io.IOException e) {
                throw new AssertionError(e.getMessage() + "; HPA status: "
                        + plane.kubectl("-n", ns, "get", "hpa", "keda-hpa-kafka-scaledobject", "-o", "jsonpath={.status}")
                        + "; ScaledObject status: "
                        + plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject", "-o", "jsonpath={.status}"), e);
            }
            JsonNode hpa = JSON.readTree(plane.kubectl("-n", ns, "get", "hpa", "keda-hpa-kafka-scaledobject", "-o", "json"));
            assertEquals(1, hpa.path("spec").path("metrics").size(), hpa.path("spec").toString());
            assertEquals("composite-metric", hpa.path("spec").path("metrics").get(0).path("external").path("metric")
                    .path("name").asText());
            String raw = plane.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns
                    + "/composite-metric?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject");
            assertEquals("20", JSON.readTree(raw).path("items").get(0).path("value").asText(), raw);
        }
    }

    private static int hpaDesired(LocalControlPlane plane, String ns) throws Exception {
        return JSON.readTree(plane.kubectl("-n", ns, "get", "hpa", "keda-hpa-kafka-scaledobject", "-o", "json"))
                .path("status").path("desiredReplicas").asInt(-1);
    }
}
