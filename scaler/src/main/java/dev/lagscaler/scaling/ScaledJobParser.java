package dev.lagscaler.scaling;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.Defaults;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a ScaledJob (as JSON) into a {@link ScaledJobSpec}, with KEDA's defaults and checks; the CRD's schema catches
 * most of them first, this catches them for input that never went through an apiserver ({@code lagscaler evaluate}).
 */
public final class ScaledJobParser {
    private static final Set<String> STRATEGIES = Set.of("default", "custom", "accurate", "eager");
    private static final Set<String> CALCULATIONS = Set.of("max", "min", "avg", "sum");
    private static final Set<String> ROLLOUTS = Set.of("default", "immediate", "gradual");

    private ScaledJobParser() {
    }

    public static ScaledJobSpec parse(JsonNode sj) throws ScaledObjectInvalid {
        JsonNode metadata = sj.path("metadata");
        JsonNode spec = sj.path("spec");
        if (!spec.isObject()) {
            throw ScaledObjectParser.invalid("spec is required");
        }
        JsonNode job = spec.path("jobTargetRef");
        if (!job.isObject() || !job.path("template").isObject()) {
            throw ScaledObjectParser.invalid("spec.jobTargetRef with a pod template is required");
        }
        int polling = ScaledObjectParser.intField(spec, "pollingInterval", (int) Defaults.POLLING_INTERVAL.toSeconds(), 1,
                ScaledObjectParser.MAX_SECONDS_POLLING);
        int successful = ScaledObjectParser.intField(spec, "successfulJobsHistoryLimit", ScaledJobSpec.DEFAULT_HISTORY_LIMIT,
                0, ScaledObjectParser.MAX_REPLICAS);
        int failed = ScaledObjectParser.intField(spec, "failedJobsHistoryLimit", ScaledJobSpec.DEFAULT_HISTORY_LIMIT, 0,
                ScaledObjectParser.MAX_REPLICAS);
        Integer min = spec.hasNonNull("minReplicaCount")
                ? ScaledObjectParser.intField(spec, "minReplicaCount", 0, 0, ScaledObjectParser.MAX_REPLICAS) : null;
        Integer max = spec.hasNonNull("maxReplicaCount")
                ? ScaledObjectParser.intField(spec, "maxReplicaCount", ScaledJobSpec.DEFAULT_MAX_JOBS, 1,
                ScaledObjectParser.MAX_REPLICAS) : null;

        // rollout.strategy, else the deprecated rolloutStrategy, else default.
        String rollout = spec.path("rollout").path("strategy").asText(spec.path("rolloutStrategy").asText("default"));
        if (rollout.isEmpty()) {
            rollout = "default";
        }
        if (!ROLLOUTS.contains(rollout)) {
            throw ScaledObjectParser.invalid("spec.rollout.strategy must be default, immediate or gradual, got \"" + rollout + "\"");
        }
        String propagation = spec.path("rollout").path("propagationPolicy").asText("background");
        if (!propagation.equals("background") && !propagation.equals("foreground")) {
            throw ScaledObjectParser.invalid("spec.rollout.propagationPolicy must be foreground or background, got \""
                    + propagation + "\"");
        }

        JsonNode strategyNode = spec.path("scalingStrategy");
        String strategy = strategyNode.path("strategy").asText("default");
        if (!STRATEGIES.contains(strategy)) {
            throw ScaledObjectParser.invalid("spec.scalingStrategy.strategy must be default, custom, accurate or eager, got \""
                    + strategy + "\"");
        }
        String calculation = strategyNode.path("multipleScalersCalculation").asText("max");
        if (calculation.isEmpty()) {
            calculation = "max";
        }
        if (!CALCULATIONS.contains(calculation)) {
            throw ScaledObjectParser.invalid("spec.scalingStrategy.multipleScalersCalculation must be max, min, avg or sum,"
                    + " got \"" + calculation + "\"");
        }
        Integer deduction = strategyNode.hasNonNull("customScalingQueueLengthDeduction")
                ? ScaledObjectParser.intField(strategyNode, "customScalingQueueLengthDeduction", 0, Integer.MIN_VALUE,
                Integer.MAX_VALUE) : null;
        List<String> pendingConditions = new ArrayList<>();
        strategyNode.path("pendingPodConditions").forEach(c -> pendingConditions.add(c.asText()));

        return new ScaledJobSpec(metadata.path("namespace").asText("default"), metadata.path("name").asText(""),
                ScaledObjectParser.instant(metadata.get("creationTimestamp")),
                ScaledObjectParser.stringMap(metadata.path("labels")), ScaledObjectParser.stringMap(metadata.path("annotations")),
                job.toString(), polling, successful, failed, min, max, new ScaledJobSpec.Rollout(rollout, propagation),
                new ScaledJobSpec.ScalingStrategy(strategy, deduction,
                        ScaledObjectParser.textOrNull(strategyNode.get("customScalingRunningJobPercentage")),
                        pendingConditions, calculation),
                ScaledObjectParser.textOrNull(spec.get("envSourceContainerName")), ScaledObjectParser.triggers(spec));
    }
}
