package dev.lagscaler.plan;

import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.scaling.ScalingPolicy;
import dev.lagscaler.scaling.TriggerOutcome;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * scalingModifiers' one metric: the formula over the named triggers' latest values (KEDA's {@code composite-metric}),
 * what it makes of activity (active above activationTarget), the HPA metric that replaces the triggers' own, and the
 * value the adapter serves: the formula's result, or past failureThreshold of a trigger it reads the fallback value
 * (replicas x target), or an error while any trigger it reads has no value. Pure.
 */
record CompositeMetric(Double value, String error, boolean fallbackEngaged) {

    static CompositeMetric of(ScaledObjectSpec spec, PlanInput in) {
        ScaledObjectSpec.ScalingModifiers modifiers = spec.scalingModifiers();
        Map<String, Double> values = new HashMap<>();
        List<String> missing = new ArrayList<>();
        boolean fallback = false;
        for (ResolvedTrigger t : in.triggers()) {
            String name = spec.triggers().get(t.index()).name();
            if (name == null || !modifiers.formula().variables().contains(name)) {
                continue;
            }
            TriggerHealth health = in.health().getOrDefault(t.index(), TriggerHealth.PENDING);
            if (health.latest() instanceof TriggerResult.Measured m) {
                values.put(name, (double) m.lag().metricValue());
            } else {
                missing.add(name + (health.latest() instanceof TriggerResult.Failed f ? " (" + f.error() + ")" : " (not polled yet)"));
                fallback |= ScalingPolicy.fallbackEngaged(spec.fallback(), health.consecutiveFailures());
            }
        }
        if (!missing.isEmpty()) {
            return new CompositeMetric(null, "no value for " + String.join(", ", missing), fallback);
        }
        try {
            return new CompositeMetric(modifiers.formula().evaluate(values), null, false);
        } catch (IllegalArgumentException | ArithmeticException e) {
            return new CompositeMetric(null, e.getMessage(), false);
        }
    }

    /**
     * The outcomes with activity decided by the formula: while it has a value, each measured trigger is as active as
     * the composite (value above activationTarget), so "any trigger active" is "the composite active".
     */
    List<TriggerOutcome> decideActivity(ScaledObjectSpec spec, List<TriggerOutcome> outcomes) {
        if (value == null) {
            return outcomes;
        }
        boolean active = value > spec.scalingModifiers().activationTarget();
        return outcomes.stream().map(o -> o.state() == TriggerOutcome.State.MEASURED || o.state() == TriggerOutcome.State.STALE
                ? new TriggerOutcome(o.index(), o.type(), o.state(), active, o.metricValue(), o.consecutiveFailures(), o.message())
                : o).toList();
    }

    /** The HPA's External metric for the composite value. */
    static HpaBuilder.Metric hpaMetric(ScaledObjectSpec.ScalingModifiers modifiers) {
        return new HpaBuilder.Metric("External", ScaledObjectSpec.ScalingModifiers.METRIC_NAME, modifiers.metricType(),
                BigDecimal.valueOf(modifiers.target()).stripTrailingZeros().toPlainString());
    }

    /** What the adapter serves for composite-metric, in milli-units. */
    Plan.MetricValue served(ScaledObjectSpec spec, int currentReplicas, Instant now, Duration staleAfter) {
        String name = ScaledObjectSpec.ScalingModifiers.METRIC_NAME;
        if (value != null) {
            return new Plan.MetricValue(name, Math.round(value * 1000), false, null, now, staleAfter);
        }
        if (fallbackEngaged) {
            ScaledObjectSpec.ScalingModifiers modifiers = spec.scalingModifiers();
            double replicas = ScalingPolicy.fallbackReplicas(spec.fallback(), currentReplicas);
            double milli = replicas * modifiers.target() * 1000;
            if (modifiers.metricType().equals("Value")) {
                milli = milli / Math.max(1, currentReplicas);
            }
            return new Plan.MetricValue(name, Math.round(milli), true, null, now, staleAfter);
        }
        return new Plan.MetricValue(name, null, false, "scalingModifiers: " + error, now, staleAfter);
    }
}
