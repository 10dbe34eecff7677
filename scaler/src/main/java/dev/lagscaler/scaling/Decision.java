package dev.lagscaler.scaling;

import java.time.Instant;
import java.util.Map;

/**
 * What to do with a ScaledObject now: the replica count the target should have, whether that needs a write to
 * /scale, the conditions to report, why, the new lastActiveTime, whether an HPA should exist, and whether the
 * target sits at zero (so its triggers are polled at the fast activation interval). {@code invalidInput}: the
 * object cannot be acted on until its user fixes it, so what works (the HPA, the count) is kept as it is.
 */
public record Decision(int replicas, boolean scaleWrite, Map<String, Condition> conditions, String reason,
                       Instant lastActiveTime, boolean hpaWanted, boolean atZero, String event, boolean invalidInput) {
    public Decision {
        conditions = Map.copyOf(conditions);
    }

    public Decision(int replicas, boolean scaleWrite, Map<String, Condition> conditions, String reason,
                    Instant lastActiveTime, boolean hpaWanted, boolean atZero, String event) {
        this(replicas, scaleWrite, conditions, reason, lastActiveTime, hpaWanted, atZero, event, false);
    }
}
