package dev.lagscaler.scaling;

import dev.lagscaler.KedaKeys;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The scaling decision (shared/docs/keda-semantics.md §4, §5): KEDA's activation, cooldown, fallback and pause rules
 * as one pure function. The controller, {@code lagscaler evaluate} and {@code lagscaler explain} all call it.
 * An error never lowers the replica count: only measured inactivity, a fallback or a pause the user set does.
 */
public final class ScalingPolicy {
    public static final String READY = "Ready";
    public static final String ACTIVE = "Active";
    public static final String FALLBACK = "Fallback";
    public static final String PAUSED = "Paused";

    private ScalingPolicy() {
    }

    public static Decision decide(ScalingInput in) {
        ScaledObjectSpec spec = in.spec();
        int current = in.currentReplicas();
        Map<String, Condition> conditions = new LinkedHashMap<>();
        conditions.put(FALLBACK, Condition.no("NoFallbackFound", "No fallback was found"));
        conditions.put(PAUSED, Condition.no("ScaledObjectUnpaused", "ScaledObject is not paused"));

        // Objects that cannot be acted on hold their count and say why.
        for (TriggerOutcome t : in.triggers()) {
            if (t.state() == TriggerOutcome.State.UNSUPPORTED) {
                return hold(in, conditions, Condition.no("UnsupportedTrigger", "trigger " + t.index() + " has type \""
                        + t.type() + "\", which lagscaler does not support (kafka, cpu and memory are)"));
            }
            if (t.state() == TriggerOutcome.State.INVALID) {
                return hold(in, conditions, Condition.no("ScaledObjectCheckFailed", "trigger " + t.index() + " ("
                        + t.type() + "): " + t.message()));
            }
        }
        if (spec.minReplicaCount() == 0 && spec.onlyResourceTriggers()) {
            return hold(in, conditions, Condition.no("ScaledObjectCheckFailed", "minReplicaCount is 0 but every trigger is"
                    + " cpu or memory, which cannot scale from zero: add an event trigger or set minReplicaCount >= 1"));
        }

        String pausedReplicas = spec.annotations().get(KedaKeys.PAUSED_REPLICAS);
        if (pausedReplicas != null) {
            int n;
            try {
                n = Integer.parseInt(pausedReplicas.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0) {
                return hold(in, conditions, Condition.no("ScaledObjectCheckFailed", KedaKeys.PAUSED_REPLICAS
                        + " must be a whole number of zero or more, got \"" + pausedReplicas + "\""));
            }
            conditions.put(PAUSED, Condition.yes("ScaledObjectPaused", "ScaledObject is paused at " + n + " replicas"));
            conditions.put(READY, Condition.yes("ScaledObjectReady", "ScaledObject is paused"));
            return new Decision(n, n != current, conditions, "paused at " + n + " replicas by " + KedaKeys.PAUSED_REPLICAS,
                    in.lastActiveTime(), false, n == 0, n != current ? "ScaledObjectPaused" : null);
        }
        if (KedaBoolean.paused(spec.annotations())) {
            conditions.put(PAUSED, Condition.yes("ScaledObjectPaused", "ScaledObject is paused"));
            conditions.put(READY, Condition.yes("ScaledObjectReady", "ScaledObject is paused"));
            return new Decision(current, false, conditions, "paused by " + KedaKeys.PAUSED + ": holding " + current,
                    in.lastActiveTime(), false, current == 0, null);
        }

        boolean scaleInPaused = KedaBoolean.pausedScaleIn(spec.annotations());
        boolean scaleOutPaused = KedaBoolean.pausedScaleOut(spec.annotations());
        if (scaleInPaused || scaleOutPaused) {
            // The HPA gets the same pause (its behavior's selectPolicy Disabled, see HpaBuilder), as KEDA does.
            String direction = scaleInPaused && scaleOutPaused ? "scale in and scale out"
                    : scaleInPaused ? "scale in" : "scale out";
            conditions.put(PAUSED, Condition.yes("ScaledObjectPaused", "ScaledObject is paused for " + direction));
        }

        boolean pending = false;
        boolean error = false;
        StringBuilder stale = new StringBuilder();
        boolean active = KedaBoolean.forceActivation(spec.annotations())
                || spec.onlyResourceTriggers();
        boolean fallbackEngaged = false;
        StringBuilder errors = new StringBuilder();
        for (TriggerOutcome t : in.triggers()) {
            switch (t.state()) {
                case MEASURED -> active |= t.active();
                case FAILED -> {
                    error = true;
                    errors.append(errors.length() > 0 ? "; " : "").append("trigger ").append(t.index()).append(": ")
                            .append(t.message());
                    fallbackEngaged |= fallbackEngaged(spec.fallback(), t.consecutiveFailures());
                }
                case STALE -> {
                    active |= t.active();
                    stale.append(stale.length() > 0 ? "; " : "").append("trigger ").append(t.index()).append(": ")
                            .append(t.message());
                }
                case PENDING -> pending = true;
                default -> {
                }
            }
        }
        if (fallbackEngaged) {
            conditions.put(FALLBACK, Condition.yes("FallbackExists", "At least one trigger is falling back on this scaled object"));
        }

        if (active) {
            int target = current;
            String event = null;
            if (current == 0 || (spec.idleReplicaCount() != null && current == spec.idleReplicaCount())) {
                target = spec.hpaMinReplicas();
                event = "KEDAScaleTargetActivated";
            } else if (spec.idleReplicaCount() != null && current < spec.minReplicaCount()) {
                target = spec.minReplicaCount();
            }
            target = respectDirectionPauses(spec, current, target);
            conditions.put(ACTIVE, Condition.yes("ScalerActive", "Scaling is performed because triggers are active"));
            conditions.put(READY, error
                    ? Condition.unknown("PartialTriggerError", "Some triggers failed: " + errors)
                    : Condition.yes("ScaledObjectReady", "ScaledObject is defined correctly and is ready for scaling"));
            return new Decision(target, target != current, conditions,
                    target != current ? "active: scaling " + current + " -> " + target : "active: the HPA scales between "
                            + spec.hpaMinReplicas() + " and " + spec.maxReplicaCount(),
                    error ? in.lastActiveTime() : in.now(), true, target == 0, target != current ? event : null);
        }
        if (error) {
            conditions.put(READY, Condition.no("TriggerError", "Triggers failed: " + errors));
            conditions.put(ACTIVE, Condition.unknown("TriggerError", "Activity is unknown while triggers fail"));
            if (fallbackEngaged) {
                // As KEDA 2.19: a trigger in fallback counts as active (it brings a target at zero back) and refreshes
                // lastActiveTime, so the cooldown starts again after the outage. Unlike KEDA, Ready stays False: an
                // outage shows in `kubectl get` and in alerts on Ready (see the README).
                int target = respectDirectionPauses(spec, current, fallbackReplicas(spec.fallback(), current));
                conditions.put(ACTIVE, Condition.yes("ScalerActive", "Scaling is performed because the fallback is active"));
                return new Decision(target, target != current, conditions, "fallback (" + spec.fallback().behavior().kedaName()
                        + "): " + target + " replicas after more than " + spec.fallback().failureThreshold() + " failures",
                        in.now(), true, target == 0, target != current ? "KEDAScalerFailed" : null);
            }
            return new Decision(current, false, conditions, "triggers failed: holding " + current + " replicas",
                    in.lastActiveTime(), true, current == 0, null);
        }
        if (stale.length() > 0) {
            // An old "inactive" is no reason to lower anything: the poll that would confirm it has not come.
            conditions.put(READY, Condition.unknown("StaleTriggerResult", "Not lowering replicas on old results: " + stale));
            conditions.put(ACTIVE, Condition.unknown("StaleTriggerResult", "Activity is unknown until a fresh poll"));
            return new Decision(current, false, conditions, "stale trigger results (" + stale + "): holding " + current,
                    in.lastActiveTime(), true, current == 0, null);
        }
        if (pending) {
            conditions.put(READY, Condition.unknown("WaitingForTriggers", "Waiting for the first poll of every trigger"));
            conditions.put(ACTIVE, Condition.unknown("WaitingForTriggers", "Waiting for the first poll of every trigger"));
            return new Decision(current, false, conditions, "waiting for the first poll: holding " + current,
                    in.lastActiveTime(), true, current == 0, null);
        }

        conditions.put(READY, Condition.yes("ScaledObjectReady", "ScaledObject is defined correctly and is ready for scaling"));
        Integer idle = spec.idleReplicaCount();
        int floor = idle != null ? idle : spec.minReplicaCount();
        if (current > floor && (spec.minReplicaCount() == 0 || idle != null)) {
            Instant cooledDownAt = in.lastActiveTime() != null
                    ? in.lastActiveTime().plusSeconds(spec.cooldownPeriodSeconds())
                    : spec.createdAt().plusSeconds(spec.initialCooldownPeriodSeconds());
            if (cooledDownAt.isBefore(in.now())) {
                int target = respectDirectionPauses(spec, current, floor);
                conditions.put(ACTIVE, Condition.no("ScalerNotActive", "Scaling is not performed because triggers are not active"));
                return new Decision(target, target != current, conditions, "inactive since "
                        + (in.lastActiveTime() != null ? in.lastActiveTime() + ", cooldown over" : "creation, initial cooldown over")
                        + ": scaling " + current + " -> " + target, in.lastActiveTime(), true, target == 0,
                        target != current ? "KEDAScaleTargetDeactivated" : null);
            }
            conditions.put(ACTIVE, Condition.no("ScalerCooldown", "Triggers are not active; cooldown ends at " + cooledDownAt));
            return new Decision(current, false, conditions, "inactive, in cooldown until " + cooledDownAt,
                    in.lastActiveTime(), true, current == 0, null);
        }
        conditions.put(ACTIVE, Condition.no("ScalerNotActive", "Scaling is not performed because triggers are not active"));
        if (idle == null && current < spec.minReplicaCount()) {
            int target = respectDirectionPauses(spec, current, spec.minReplicaCount());
            return new Decision(target, target != current, conditions, "below minReplicaCount: scaling " + current + " -> "
                    + target, in.lastActiveTime(), true, target == 0, null);
        }
        return new Decision(current, false, conditions, "inactive at " + current + " replicas", in.lastActiveTime(), true,
                current == 0, null);
    }

    /** KEDA's rule: a fallback applies once a trigger failed more than failureThreshold polls in a row. */
    public static boolean fallbackEngaged(ScaledObjectSpec.Fallback fallback, int consecutiveFailures) {
        return fallback != null && consecutiveFailures > fallback.failureThreshold();
    }

    /** The replica count a fallback holds, by its behavior. */
    public static int fallbackReplicas(ScaledObjectSpec.Fallback fallback, int current) {
        return switch (fallback.behavior()) {
            case STATIC, SCALING_MODIFIERS -> fallback.replicas();
            case CURRENT_REPLICAS -> current;
            case CURRENT_REPLICAS_IF_HIGHER -> Math.max(current, fallback.replicas());
            case CURRENT_REPLICAS_IF_LOWER -> Math.min(current, fallback.replicas());
        };
    }

    /**
     * The metric value that makes the HPA land on the fallback count (milli-units): replicas x target for an
     * AverageValue target; for a Value target, target x fallback / current replicas, as KEDA serves it.
     */
    public static long fallbackMetricMilli(ScaledObjectSpec.Fallback fallback, dev.lagscaler.trigger.MetricTargetType type,
                                           long target, int current) {
        return metricMilliFor(fallbackReplicas(fallback, current), type, target, current);
    }

    /**
     * The metric value (milli-units) at which the HPA wants {@code replicas} while it runs {@code current}:
     * replicas x target for an AverageValue target, target x replicas / current for a Value target.
     */
    public static long metricMilliFor(long replicas, dev.lagscaler.trigger.MetricTargetType type, long target, int current) {
        if (type == dev.lagscaler.trigger.MetricTargetType.VALUE) {
            return replicas * target * 1000 / Math.max(1, current);
        }
        return replicas * target * 1000;
    }

    private static int respectDirectionPauses(ScaledObjectSpec spec, int current, int target) {
        if (target < current && KedaBoolean.pausedScaleIn(spec.annotations())) {
            return current;
        }
        if (target > current && KedaBoolean.pausedScaleOut(spec.annotations())) {
            return current;
        }
        return target;
    }

    /**
     * Holds the current count: nothing can be measured until the user fixes the object. A mistake in user input
     * removes nothing that works: an HPA already there stays as it is (none is made), see {@link Decision#invalidInput}.
     */
    private static Decision hold(ScalingInput in, Map<String, Condition> conditions, Condition ready) {
        conditions.put(READY, ready);
        conditions.put(ACTIVE, Condition.unknown(ready.reason(), "Not evaluated: the ScaledObject is not ready"));
        return new Decision(in.currentReplicas(), false, conditions, ready.reason() + ": " + ready.message()
                + "; holding " + in.currentReplicas() + " replicas", in.lastActiveTime(), false,
                in.currentReplicas() == 0, null, true);
    }
}
