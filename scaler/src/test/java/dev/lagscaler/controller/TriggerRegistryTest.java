package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.LagArithmetic;
import dev.lagscaler.lag.PartitionOffsets;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.lag.TimeLag;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which poll results wake a reconcile: at 1,000 idle objects, one per safety-net poll was 200 passes a second. */
class TriggerRegistryTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final TriggerKey KEY = new TriggerKey("ns", "so", 0);

    private static TriggerResult measured(long lag, Instant at) throws Exception {
        var settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(Map.of("bootstrapServers", "k:9092",
                "consumerGroup", "g", "topic", "t")));
        return new TriggerResult.Measured(KEY, at, LagArithmetic.compute(settings,
                List.of(new PartitionOffsets("t", 0, 100, 100 + lag)), PersistentLagMemory.EMPTY), new TimeLag(0.0, Map.of(), null),
                ConsumerHealth.UNKNOWN);
    }

    @Test
    void aRepeatedIdleMeasurementIsTheSameAndAnythingElseIsNot() throws Exception {
        assertTrue(TriggerRegistry.sameMeasurement(measured(0, T0), measured(0, T0.plusSeconds(5))));
        assertFalse(TriggerRegistry.sameMeasurement(measured(0, T0), measured(1, T0.plusSeconds(5))), "a record arrived");
        assertFalse(TriggerRegistry.sameMeasurement(null, measured(0, T0)), "the first result");
        TriggerResult failed = new TriggerResult.Failed(KEY, T0, new TriggerError(TriggerError.Kind.BROKER_UNREACHABLE, "down"));
        assertFalse(TriggerRegistry.sameMeasurement(failed, failed), "failures count towards fallback: each wakes");
        assertFalse(TriggerRegistry.sameMeasurement(measured(0, T0), failed));
    }

    @Test
    void atZeroAnUnchangedResultWakesOnlyEveryQuietWake() {
        Instant last = T0;
        Duration quiet = TriggerRegistry.QUIET_WAKE;
        assertFalse(TriggerRegistry.wakes(false, last, T0.plusSeconds(5), quiet), "at zero, nothing new, 5 s later");
        assertTrue(TriggerRegistry.wakes(false, last, T0.plus(quiet), quiet), "the quiet wake is due");
        assertTrue(TriggerRegistry.wakes(true, last, T0.plusSeconds(1), quiet), "something new wakes at once");
        assertTrue(TriggerRegistry.wakes(false, null, T0, quiet), "never woken");
    }

    /**
     * Above zero, fresh values (polled every 2 s) reconcile once per pollingInterval and are served directly between;
     * cached values (polled every pollingInterval) still wake a reconcile with each result, however the polls jitter.
     */
    @Test
    void anActiveTargetReconcilesOncePerPollingInterval() throws Exception {
        Duration polling = Duration.ofSeconds(30);
        Duration fresh = TriggerRegistry.activeWakeEvery(polling, Duration.ofSeconds(2));
        assertEquals(Duration.ofSeconds(29), fresh);
        assertFalse(TriggerRegistry.wakes(false, T0, T0.plusSeconds(2), fresh), "a fresh poll 2 s later: served, not reconciled");
        assertTrue(TriggerRegistry.wakes(false, T0, T0.plusSeconds(30), fresh), "pollingInterval later: reconciled");
        Duration cached = TriggerRegistry.activeWakeEvery(polling, polling);
        assertTrue(TriggerRegistry.wakes(false, T0, T0.plusMillis(29_900), cached), "a cached poll a little early still wakes");
        assertTrue(TriggerRegistry.sameDecision(measured(5, T0), measured(9, T0.plusSeconds(2))), "only the value moved");
        assertFalse(TriggerRegistry.sameDecision(measured(0, T0), measured(9, T0.plusSeconds(2))), "it became active");
        TriggerResult failed = new TriggerResult.Failed(KEY, T0, new TriggerError(TriggerError.Kind.BROKER_UNREACHABLE, "down"));
        assertFalse(TriggerRegistry.sameDecision(measured(5, T0), failed), "a failure always wakes (fallback counts it)");
    }
}
