package dev.lagscaler.lag;

import java.time.Instant;

/** The outcome of one poll for one trigger: a measurement or a typed failure. */
public sealed interface TriggerResult {
    TriggerKey key();

    Instant at();

    record Measured(TriggerKey key, Instant at, LagResult lag) implements TriggerResult {
    }

    record Failed(TriggerKey key, Instant at, TriggerError error) implements TriggerResult {
    }
}
