package dev.lagscaler.lag.kafka;

import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** SASL/SCRAM-SHA-512 from auth params against a broker that only lets SCRAM users in on that listener. */
@WithKafka(scramUsers = "alice=alice-secret")
class ScramAuthTest {
    private final EmbeddedKafka kafka;

    ScramAuthTest(EmbeddedKafka kafka) {
        this.kafka = kafka;
    }

    private TriggerResult poll(String password) throws Exception {
        var settings = KafkaTriggerParser.parse(new TriggerInput(
                Map.of("bootstrapServers", kafka.saslBootstrapServers(), "consumerGroup", "scram-app", "topic", "secured"),
                Map.of("sasl", "scram_sha512", "username", "alice", "password", password), Map.of(), null));
        AtomicReference<TriggerResult> result = new AtomicReference<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(10)))) {
            engine.register(new TriggerKey("test", "scram", 0), settings, Duration.ofHours(1), result::set);
            engine.pollNow(settings.connection());
        }
        return result.get();
    }

    @Test
    void scramCredentialsFromAuthParamsAreAccepted() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "secured", 2);
        KafkaTestData.produce(kafka.bootstrapServers(), "secured", 1, 9);
        LagResult lag = assertInstanceOf(TriggerResult.Measured.class, poll("alice-secret")).lag();
        assertEquals(2, lag.metricValue(), "no commits: 1 per partition");
    }

    @Test
    void wrongPasswordIsAnAuthFailureThatNeverShowsThePassword() throws Exception {
        TriggerResult.Failed failed = assertInstanceOf(TriggerResult.Failed.class, poll("not-the-password"));
        assertEquals(TriggerError.Kind.AUTH_FAILED, failed.error().kind());
        assertFalse(failed.error().message().contains("not-the-password"));
    }
}
