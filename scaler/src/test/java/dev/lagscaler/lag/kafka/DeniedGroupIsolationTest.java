package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * One consumer group denied by a real broker's ACLs ({@code StandardAuthorizer}, a DENY on that group alone) fails
 * only its own trigger: the shared client stays, and a neighbour on the same cluster keeps measuring. The engine's
 * clock is fixed, so a client closed by the denial would stay closed for its whole backoff and the neighbour's
 * next result would show it.
 */
@WithKafka(scramUsers = "scaler=scaler-secret", aclAuthorizer = true)
class DeniedGroupIsolationTest {
    private final EmbeddedKafka kafka;

    /** The shared ACL broker (one per test JVM); the DENY is idempotent, so each class may add it. */
    DeniedGroupIsolationTest(EmbeddedKafka kafka) {
        this.kafka = kafka;
        kafka.denyGroup("scaler", "denied-app");
    }

    private KafkaTriggerSettings scramTrigger(String group, String topic) throws Exception {
        return KafkaTriggerParser.parse(new TriggerInput(
                Map.of("bootstrapServers", kafka.saslBootstrapServers(), "consumerGroup", group, "topic", topic,
                        "lagThreshold", "5"),
                Map.of("sasl", "scram_sha512", "username", "scaler", "password", "scaler-secret"), Map.of(), null));
    }

    @Test
    void aDeniedGroupFailsItsOwnTriggerAndNeverTheSharedClient() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "shared-events", 2);
        KafkaTestData.produce(kafka.bootstrapServers(), "shared-events", 0, 30);
        KafkaTestData.commit(kafka.bootstrapServers(), "neighbour-app", Map.of(new TopicPartition("shared-events", 0), 10L));

        Map<TriggerKey, TriggerResult> results = new ConcurrentHashMap<>();
        Clock fixed = Clock.fixed(Instant.now(), ZoneOffset.UTC);
        LagEngine.Options options = LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(10)).withClock(fixed);
        try (LagEngine engine = new LagEngine(options)) {
            TriggerKey deniedKey = new TriggerKey("test", "denied", 0);
            TriggerKey neighbourKey = new TriggerKey("test", "neighbour", 0);
            // The denied trigger is polled alone first (its first poll is due at once).
            engine.register(deniedKey, scramTrigger("denied-app", "shared-events"), Duration.ofHours(1), r -> results.put(r.key(), r));
            ChildProcess.await("the denied trigger's first result", Duration.ofSeconds(30), Duration.ofMillis(20),
                    () -> results.containsKey(deniedKey));
            TriggerResult.Failed denied = assertInstanceOf(TriggerResult.Failed.class, results.get(deniedKey));
            assertEquals(TriggerError.Kind.NOT_AUTHORIZED, denied.error().kind(), denied.error().toString());
            assertTrue(denied.error().message().contains("denied-app") && denied.error().message().contains("ACL"),
                    denied.error().message());

            // Then the neighbour on the same cluster, alone in its own first poll.
            var neighbour = engine.register(neighbourKey, scramTrigger("neighbour-app", "shared-events"),
                    Duration.ofHours(1), r -> results.put(r.key(), r));
            ChildProcess.await("the neighbour's first result", Duration.ofSeconds(30), Duration.ofMillis(20),
                    () -> results.containsKey(neighbourKey));
            var first = assertInstanceOf(TriggerResult.Measured.class, results.get(neighbourKey),
                    "the neighbour measures: " + results.get(neighbourKey)).lag();
            assertEquals(21, first.rawTotalLag(), "20 on partition 0, 1 for the uncommitted partition 1");

            // Its lag keeps flowing through polls that also carry the denied trigger.
            KafkaTestData.produce(kafka.bootstrapServers(), "shared-events", 0, 7);
            engine.pollNow(neighbour.settings().connection());
            var second = assertInstanceOf(TriggerResult.Measured.class, results.get(neighbourKey)).lag();
            assertEquals(28, second.rawTotalLag());
            assertEquals(TriggerError.Kind.NOT_AUTHORIZED,
                    assertInstanceOf(TriggerResult.Failed.class, results.get(deniedKey)).error().kind());
        }
    }
}
