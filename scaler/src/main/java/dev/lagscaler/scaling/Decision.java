package dev.lagscaler.scaling;

import java.time.Instant;
import java.util.Map;

/**
 * What to do with a ScaledObject now: the replica count the target should have, whether that needs a write to
 * /scale, the conditions to report, why, the new lastActiveTime, whether an HPA should exist, and whether the
 * target sits at zero (so its triggers are polled at the fast activation interval).
 */
public record Decision(int replicas, boolean scaleWrite, Map<String, Condition> conditions, String reason,
                       Instant lastActiveTime, boolean hpaWanted, boolean atZero, String event) {
    public Decision {
        conditions = Map.copyOf(conditions);
    }
}
