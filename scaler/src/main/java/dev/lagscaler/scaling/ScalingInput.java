package dev.lagscaler.scaling;

import java.time.Instant;
import java.util.List;

/** Everything a decision depends on; {@code lastActiveTime} is null when the object was never active. */
public record ScalingInput(ScaledObjectSpec spec, List<TriggerOutcome> triggers, int currentReplicas,
                           Instant lastActiveTime, Instant now) {
    public ScalingInput {
        triggers = List.copyOf(triggers);
    }
}
