package dev.lagscaler.scaling;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A ScaledObject as the decision core sees it: KEDA's fields with KEDA's defaults applied.
 * {@code idleReplicaCount} is null when unset; {@code hpaBehavior} is the raw JSON of
 * advanced.horizontalPodAutoscalerConfig.behavior, or null; {@code activationPollingInterval} is the
 * {@code lagscaler.dev/activation-polling-interval} annotation, validated, or null when unset.
 */
public record ScaledObjectSpec(
        String namespace,
        String name,
        Instant createdAt,
        Map<String, String> labels,
        Map<String, String> annotations,
        ScaleTarget target,
        int pollingIntervalSeconds,
        int cooldownPeriodSeconds,
        int initialCooldownPeriodSeconds,
        Integer idleReplicaCount,
        int minReplicaCount,
        int maxReplicaCount,
        Fallback fallback,
        boolean restoreToOriginalReplicaCount,
        String hpaName,
        String hpaBehavior,
        Duration activationPollingInterval,
        List<TriggerSpec> triggers,
        ScalingModifiers scalingModifiers) {

    public ScaledObjectSpec {
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
        triggers = List.copyOf(triggers);
    }

    /** What is scaled: apps/v1 Deployment unless the ref says otherwise. */
    public record ScaleTarget(String apiVersion, String kind, String name, String envSourceContainerName) {
    }

    public record Fallback(int failureThreshold, int replicas, FallbackBehavior behavior) {
    }

    /**
     * {@code advanced.scalingModifiers}: one composite metric, the formula over the triggers' values by name, with
     * its target, activation target and metric type (AverageValue or Value). Null on the spec when absent.
     */
    public record ScalingModifiers(ScalingFormula formula, double target, double activationTarget, String metricType) {
        /** The HPA's metric name for the composite value, as KEDA names it. */
        public static final String METRIC_NAME = "composite-metric";
    }

    public enum FallbackBehavior {
        STATIC("static"), CURRENT_REPLICAS("currentReplicas"), CURRENT_REPLICAS_IF_HIGHER("currentReplicasIfHigher"),
        CURRENT_REPLICAS_IF_LOWER("currentReplicasIfLower"),
        /** With advanced.scalingModifiers: the composite metric falls back (to replicas x its target). */
        SCALING_MODIFIERS("scalingModifiers");

        private final String kedaName;

        FallbackBehavior(String kedaName) {
            this.kedaName = kedaName;
        }

        public String kedaName() {
            return kedaName;
        }
    }

    /** One entry of spec.triggers. {@code authKind} is TriggerAuthentication or ClusterTriggerAuthentication. */
    public record TriggerSpec(String type, String name, Map<String, String> metadata, String authName, String authKind,
                              String metricType, boolean useCachedMetrics) {
        public TriggerSpec {
            metadata = Map.copyOf(metadata);
        }

        public boolean isResource() {
            return type.equals("cpu") || type.equals("memory");
        }

        /**
         * KEDA's {@code scaler} label on this trigger's metrics: the trigger's {@code name} when it has one, else the
         * name of KEDA's scaler type ({@code kafkaScaler}, {@code cpuMemoryScaler}).
         */
        public String scalerName() {
            if (name != null) {
                return name;
            }
            return isResource() ? "cpuMemoryScaler" : type + "Scaler";
        }
    }

    /**
     * Whether an HPA of {@link #hpaName()} that this object does not own may be taken over: KEDA's
     * {@code scaledobject.keda.sh/transfer-hpa-ownership} annotation, read as a Go boolean.
     */
    public boolean transfersHpaOwnership() {
        return KedaBoolean.transferHpaOwnership(annotations);
    }

    /** The HPA's minReplicas: minReplicaCount, or 1 when it is 0. */
    public int hpaMinReplicas() {
        return Math.max(minReplicaCount, 1);
    }

    /**
     * Whether the HPA should read fresh values: a kafka trigger with {@code useCachedMetrics: false} (KEDA's default).
     * With every event trigger at {@code true}, values are as old as pollingInterval, as in KEDA.
     */
    public boolean wantsFreshMetrics() {
        return triggers.stream().anyMatch(t -> !t.isResource() && !t.useCachedMetrics());
    }

    public boolean onlyResourceTriggers() {
        return triggers.stream().allMatch(TriggerSpec::isResource);
    }
}
