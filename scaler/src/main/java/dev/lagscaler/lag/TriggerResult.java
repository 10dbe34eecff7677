package dev.lagscaler.lag;

import java.time.Instant;

/** The outcome of one poll for one trigger: a measurement or a typed failure. */
public sealed interface TriggerResult {
    TriggerKey key();

    Instant at();

    /** A measurement, with the time lag estimated from the poller's log-end history (unknown when it has none). */
    record Measured(TriggerKey key, Instant at, LagResult lag, TimeLag timeLag) implements TriggerResult {
        public Measured(TriggerKey key, Instant at, LagResult lag) {
            this(key, at, lag, TimeLag.UNKNOWN);
        }
    }

    record Failed(TriggerKey key, Instant at, TriggerError error) implements TriggerResult {
    }
}
