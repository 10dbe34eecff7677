package dev.lagscaler.e2e;

import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.FAST_HPA;
import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.apply;
import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.consumerAndTopic;
import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.replicas;
import static dev.lagscaler.e2e.ExternalMetricsEndToEndTest.scaledObject;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.cli.demo.PodRunner;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * drainWithinSeconds on the real control plane and broker: real consumers (one per replica the Deployment asks for,
 * 40 records/s each) work off 3,200 records. With lagThreshold 100,000 the threshold alone would keep one replica;
 * drain-time sizing measures what a busy replica commits and asks the real HPA for enough replicas to clear the
 * backlog within 20 s, and the status says how it got there.
 */
@WithKafka
@WithControlPlane
class DrainTimeEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theHpaGetsTheReplicasThatDrainTheBacklogInTime(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "drain";
        String topic = "drain-events";
        consumerAndTopic(plane, kafka, ns, topic, "drain-group", 8);
        for (int p = 0; p < 8; p++) {
            KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 400);
        }
        // A 5-poll window (polled every second): rates known after about 5 s, a replica's rate settled after 10 s.
        LagEngine.Options options = LagEngine.Options.defaults()
                .withConsumerHealth(new ConsumerHealth.Settings(5, Duration.ofSeconds(60), Duration.ofMinutes(5)));
        AtomicInteger lastReplicas = new AtomicInteger(1);
        try (HpaStack stack = HpaStack.start(plane, "drain", options);
             PodRunner pods = new PodRunner(kafka.bootstrapServers(), "drain-group", topic, 40, () -> {
                 try {
                     lastReplicas.set(replicas(plane, ns));
                 } catch (Exception e) {
                     // keep the last count read
                 }
                 return lastReplicas.get();
             })) {
            pods.start();
            apply(plane, ns, scaledObject("""
                    pollingInterval: 1
                    minReplicaCount: 1
                    maxReplicaCount: 8
                    """ + FAST_HPA, kafka.bootstrapServers(), "drain-group", topic,
                    "lagThreshold: \"100000\", drainWithinSeconds: \"20\""));
            // 3,200 waiting / 20 s = 160 records/s needed, 40 per replica: about 4 (fewer as the backlog shrinks).
            ChildProcess.await("the HPA raises the Deployment to at least 3", Duration.ofSeconds(90),
                    Duration.ofMillis(500), () -> replicas(plane, ns) >= 3);
            JsonNode health = JSON.readTree(plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject", "-o",
                    "json")).path("status").path("health").path("s0-kafka-drain-events");
            double rate = health.path("drainRatePerReplica").asDouble();
            assertTrue(rate >= 25 && rate <= 52, "a busy replica commits about 40 records/s: " + health);
            assertTrue(health.path("drainSizing").asText().contains("records/s per replica -> "), health.toString());
            String explained = plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject", "-o",
                    "jsonpath={.status.health.s0-kafka-drain-events.drainSizing}");
            assertTrue(explained.contains("/ 20 s"), explained);
            // As the backlog shrinks fewer replicas clear it in time (one does once 800 are left); when it is
            // gone, what arrives (nothing) needs the minimum.
            ChildProcess.await("the backlog worked off", Duration.ofSeconds(120), Duration.ofMillis(500),
                    () -> pods.consumed() >= 3200);
            ChildProcess.await("back to 1", Duration.ofSeconds(30), Duration.ofMillis(500),
                    () -> replicas(plane, ns) == 1);
        }
    }
}
