package dev.lagscaler.lag;

import java.time.Instant;

/** The outcome of one poll for one trigger: a measurement or a typed failure. */
public sealed interface TriggerResult {
    TriggerKey key();

    Instant at();

    /**
     * A measurement, with the time lag estimated from the poller's log-end history and the group's health judged
     * over its window of polls (each unknown until the poller has seen enough).
     */
    record Measured(TriggerKey key, Instant at, LagResult lag, TimeLag timeLag, ConsumerHealth health)
            implements TriggerResult {
        public Measured(TriggerKey key, Instant at, LagResult lag) {
            this(key, at, lag, TimeLag.UNKNOWN, ConsumerHealth.UNKNOWN);
        }

        public Measured(TriggerKey key, Instant at, LagResult lag, TimeLag timeLag) {
            this(key, at, lag, timeLag, ConsumerHealth.UNKNOWN);
        }
    }

    record Failed(TriggerKey key, Instant at, TriggerError error) implements TriggerResult {
    }
}
