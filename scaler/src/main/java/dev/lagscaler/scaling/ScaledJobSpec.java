package dev.lagscaler.scaling;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A ScaledJob as the decision core sees it: KEDA's fields with KEDA's defaults applied. {@code jobTemplate} is
 * {@code spec.jobTargetRef} (a batch/v1 JobSpec) as raw JSON; {@code minReplicaCount}/{@code maxReplicaCount} are
 * as written (null when unset): {@link #minJobs()} and {@link #maxJobs()} apply KEDA's rules to them.
 */
public record ScaledJobSpec(
        String namespace,
        String name,
        Instant createdAt,
        Map<String, String> labels,
        Map<String, String> annotations,
        String jobTemplate,
        int pollingIntervalSeconds,
        int successfulJobsHistoryLimit,
        int failedJobsHistoryLimit,
        Integer minReplicaCount,
        Integer maxReplicaCount,
        Rollout rollout,
        ScalingStrategy scalingStrategy,
        String envSourceContainerName,
        List<ScaledObjectSpec.TriggerSpec> triggers) {

    public static final int DEFAULT_MAX_JOBS = 100;
    public static final int DEFAULT_HISTORY_LIMIT = 100;

    public ScaledJobSpec {
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
        triggers = List.copyOf(triggers);
    }

    /** How spec changes reach running Jobs: default/immediate deletes the old ones, gradual lets them finish. */
    public record Rollout(String strategy, String propagationPolicy) {
        public boolean gradual() {
            return strategy.equals("gradual");
        }
    }

    /**
     * KEDA's scalingStrategy: strategy (default, custom, accurate, eager), the custom strategy's deduction and running
     * percentage (a string, as KEDA's; unparsable makes the custom strategy the default one, as in KEDA),
     * pendingPodConditions, multipleScalersCalculation (max, min, avg, sum).
     */
    public record ScalingStrategy(String strategy, Integer customScalingQueueLengthDeduction,
                                  String customScalingRunningJobPercentage, List<String> pendingPodConditions,
                                  String multipleScalersCalculation) {
        public ScalingStrategy {
            pendingPodConditions = List.copyOf(pendingPodConditions);
        }
    }

    /** KEDA's MinReplicaCount(): as set (0 by default), but never above maxReplicaCount. */
    public long minJobs() {
        if (minReplicaCount == null) {
            return 0;
        }
        return maxReplicaCount != null && minReplicaCount > maxReplicaCount ? maxReplicaCount : minReplicaCount;
    }

    /**
     * KEDA's MaxReplicaCount(): maxReplicaCount less the minimum (the minimum's Jobs are counted apart), or
     * maxReplicaCount itself when the minimum is above it; 100 when unset.
     */
    public long maxJobs() {
        if (maxReplicaCount == null) {
            return DEFAULT_MAX_JOBS;
        }
        if (minReplicaCount != null && minReplicaCount > maxReplicaCount) {
            return maxReplicaCount;
        }
        return maxReplicaCount - minJobs();
    }

    public boolean paused() {
        return KedaBoolean.paused(annotations);
    }
}
