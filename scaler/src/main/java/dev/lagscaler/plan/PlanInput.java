package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.scaling.ScaledObjectSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one reconcile decides from, read before deciding: the ScaledObject (its spec, uid and current status),
 * the target's replicas, the HPA that exists (null when none), the resolved triggers with one snapshot of their
 * poll results, the fast polling interval for targets at zero, the clock, and the HPAs the object owns under a former
 * name (see {@link TargetClaims#formerHpas}).
 */
public record PlanInput(ScaledObjectSpec spec, String uid, JsonNode status, int currentReplicas, ExistingHpa hpa,
                        List<ResolvedTrigger> triggers, Map<Integer, TriggerHealth> health, Duration fastInterval,
                        Instant now, WakeUp wakeUp, List<TargetClaims.SeenHpa> formerHpas) {
    public PlanInput {
        triggers = List.copyOf(triggers);
        health = Map.copyOf(health);
        formerHpas = List.copyOf(formerHpas);
    }

    public PlanInput(ScaledObjectSpec spec, String uid, JsonNode status, int currentReplicas, ExistingHpa hpa,
                     List<ResolvedTrigger> triggers, Map<Integer, TriggerHealth> health, Duration fastInterval,
                     Instant now, WakeUp wakeUp) {
        this(spec, uid, status, currentReplicas, hpa, triggers, health, fastInterval, now, wakeUp, List.of());
    }

    public PlanInput(ScaledObjectSpec spec, String uid, JsonNode status, int currentReplicas, ExistingHpa hpa,
                     List<ResolvedTrigger> triggers, Map<Integer, TriggerHealth> health, Duration fastInterval, Instant now) {
        this(spec, uid, status, currentReplicas, hpa, triggers, health, fastInterval, now, null);
    }

    /** The same input with newer poll results, read at {@code now} (fresh values between reconciles). */
    public PlanInput withHealth(Map<Integer, TriggerHealth> newer, Instant at) {
        return new PlanInput(spec, uid, status, currentReplicas, hpa, triggers, newer, fastInterval, at, wakeUp, formerHpas);
    }

    /**
     * The same input keeping of its status only what {@link ReconcilePlanner#servedValues} reads, each trigger's
     * {@code health} (its drain memory): what the operator remembers of an object between its reconciles, for
     * thousands of objects at once.
     */
    public PlanInput forServing() {
        com.fasterxml.jackson.databind.node.ObjectNode kept = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        if (status != null && status.has("health")) {
            kept.set("health", status.get("health"));
        }
        return new PlanInput(spec, uid, kept, currentReplicas, hpa, triggers, health, fastInterval, now, wakeUp, formerHpas);
    }

    /**
     * How a target at zero learns of its first record: whether the operator runs wake-up consumers, and per Kafka
     * cluster (by {@code ClusterConnection.label()}) whether its consumer fetches (null error) or why not. A cluster
     * without an entry has no wake-up consumer (GSSAPI clusters are polled only). Null: not known (evaluate,
     * explain, tests).
     */
    public record WakeUp(boolean enabled, Map<String, String> errorByCluster) {
        public WakeUp {
            errorByCluster = Collections.unmodifiableMap(new HashMap<>(errorByCluster));
        }
    }

    /**
     * The HPA of the object's name as read: whether this object owns it, its spec hash annotation, version, uid, and
     * its live spec (null when unknown, as in {@code evaluate}: the hash alone then decides).
     */
    public record ExistingHpa(boolean ownedByScaledObject, String specHash, String resourceVersion, String uid,
                              JsonNode spec) {
        public ExistingHpa(boolean ownedByScaledObject, String specHash, String resourceVersion, String uid) {
            this(ownedByScaledObject, specHash, resourceVersion, uid, null);
        }
    }
}
