package dev.lagscaler.plan;

import dev.lagscaler.lag.TriggerResult;

/** A kafka trigger's latest poll (null before the first) and how many polls in a row failed, read once per pass. */
public record TriggerHealth(TriggerResult latest, int consecutiveFailures) {
    public static final TriggerHealth PENDING = new TriggerHealth(null, 0);
}
