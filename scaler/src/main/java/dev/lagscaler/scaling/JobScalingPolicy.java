package dev.lagscaler.scaling;

import java.util.List;

/**
 * How many Jobs a ScaledJob creates, as KEDA's executor decides it (pkg/scaling/executor/scale_jobs.go and
 * pkg/scaling/scaledjob/metrics.go of KEDA 2.21): each trigger's queue length (the lag) over its target (the
 * lagThreshold) gives the Jobs it asks for; the triggers combine by multipleScalersCalculation; the minimum is
 * topped up first; then the scaling strategy turns "asked for" into "at most this many more" given the running and
 * pending Jobs. Pure; the controller, {@code lagscaler evaluate} and {@code explain} call it.
 */
public final class JobScalingPolicy {
    private JobScalingPolicy() {
    }

    /** One trigger's contribution: its queue length, the Jobs it asks for (KEDA's maxValue), whether it is active. */
    public record TriggerMetrics(double queueLength, double maxValue, boolean active) {
        /**
         * KEDA's CalculateQueueLengthAndMaxValue: the Jobs asked for are queueLength / target, at most maxJobs (none
         * when the target is 0).
         */
        public static TriggerMetrics of(double queueLength, double target, long maxJobs, boolean active) {
            double maxValue = target == 0 ? 0 : Math.min(queueLength / target, maxJobs);
            return new TriggerMetrics(queueLength, maxValue, active);
        }
    }

    /** The triggers combined: whether any counts as active, the queue length and the Jobs asked for (both rounded up). */
    public record Combined(boolean active, long queueLength, long maxScale) {
    }

    /** What one pass decides: how many Jobs to create now, with the numbers behind it and why, in words. */
    public record JobDecision(boolean active, long queueLength, long maxScale, long running, long pending,
                              long effectiveMaxScale, long scaleTo, long jobsToCreate, String reason) {
    }

    /** KEDA's IsScaledJobActive: max (default), min, avg or sum over the active triggers; a minimum makes it active. */
    public static Combined combine(List<TriggerMetrics> triggers, String calculation, long minJobs, long maxJobs) {
        double queueLength = 0;
        double maxValue = 0;
        boolean active = false;
        switch (calculation) {
            case "min" -> {
                for (TriggerMetrics m : triggers) {
                    if ((queueLength == 0 || m.queueLength() < queueLength) && m.active()) {
                        queueLength = m.queueLength();
                        maxValue = m.maxValue();
                        active = true;
                    }
                }
            }
            case "avg" -> {
                double queueSum = 0;
                double maxSum = 0;
                int n = 0;
                for (TriggerMetrics m : triggers) {
                    if (m.active()) {
                        queueSum += m.queueLength();
                        maxSum += m.maxValue();
                        active = true;
                        n++;
                    }
                }
                if (n != 0) {
                    queueLength = queueSum / n;
                    maxValue = maxSum / n;
                }
            }
            case "sum" -> {
                for (TriggerMetrics m : triggers) {
                    if (m.active()) {
                        queueLength += m.queueLength();
                        maxValue += m.maxValue();
                        active = true;
                    }
                }
            }
            default -> {
                for (TriggerMetrics m : triggers) {
                    if (m.queueLength() > queueLength && m.active()) {
                        queueLength = m.queueLength();
                        maxValue = m.maxValue();
                        active = true;
                    }
                }
            }
        }
        if (minJobs > 0) {
            active = true;
        }
        maxValue = Math.min(maxValue, maxJobs);
        return new Combined(active, (long) Math.ceil(queueLength), (long) Math.ceil(maxValue));
    }

    /**
     * KEDA's GetEffectiveMaxScale per strategy: how many more Jobs at most ({@code [0]}) and the count to aim for
     * ({@code [1]}), from the Jobs asked for, the running ones (less the minimum's) and the pending ones.
     */
    public static long[] effectiveMaxScale(ScaledJobSpec.ScalingStrategy strategy, long maxScale, long running,
                                           long pending, long maxJobs, long scaleTo) {
        switch (strategy.strategy()) {
            case "custom" -> {
                Double percentage = parsePercentage(strategy.customScalingRunningJobPercentage());
                if (percentage == null) {
                    return new long[] {maxScale - running, scaleTo}; // KEDA falls back to the default strategy
                }
                long deduction = strategy.customScalingQueueLengthDeduction() == null ? 0
                        : strategy.customScalingQueueLengthDeduction();
                long result = maxScale - deduction - (long) (running * percentage);
                return new long[] {Math.min(result, maxJobs), scaleTo};
            }
            case "accurate" -> {
                if (maxScale + running - pending > maxJobs) {
                    return new long[] {maxJobs - running, scaleTo};
                }
                return new long[] {maxScale - pending, scaleTo};
            }
            case "eager" -> {
                return new long[] {Math.min(maxJobs - running - pending, maxScale), maxJobs};
            }
            default -> {
                return new long[] {maxScale - running, scaleTo};
            }
        }
    }

    /** One pass of KEDA's RequestJobScale: the Jobs to create for these trigger metrics and Job counts. */
    public static JobDecision decide(ScaledJobSpec spec, List<TriggerMetrics> triggers, long running, long pending) {
        Combined combined = combine(triggers, spec.scalingStrategy().multipleScalersCalculation(), spec.minJobs(),
                spec.maxJobs());
        if (spec.paused()) {
            return new JobDecision(combined.active(), combined.queueLength(), combined.maxScale(), running, pending, 0, 0,
                    0, "paused by autoscaling.keda.sh/paused: no Jobs are created");
        }
        long effective;
        long scaleTo;
        String why;
        long min = spec.minJobs();
        if (running < min) {
            effective = min - running;
            scaleTo = effective;
            why = running + " running, below minReplicaCount " + min;
        } else {
            long[] strategy = effectiveMaxScale(spec.scalingStrategy(), combined.maxScale(), running - min, pending,
                    spec.maxJobs(), combined.queueLength());
            effective = strategy[0];
            scaleTo = strategy[1];
            why = spec.scalingStrategy().strategy() + " strategy: " + combined.maxScale() + " asked for (queue "
                    + combined.queueLength() + "), " + running + " running, " + pending + " pending, at most "
                    + spec.maxJobs() + " -> at most " + Math.max(effective, 0) + " more";
        }
        effective = Math.max(effective, 0);
        long create = !combined.active() || effective <= 0 ? 0 : Math.min(scaleTo, effective);
        String reason = !combined.active() ? "inactive: no trigger is active, no Jobs are created"
                : create == 0 ? why + ": all requested Jobs already exist" : why + ": create " + create;
        return new JobDecision(combined.active(), combined.queueLength(), combined.maxScale(), running, pending, effective,
                scaleTo, create, reason);
    }

    private static Double parsePercentage(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
