package dev.lagscaler.scaling;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.Defaults;
import dev.lagscaler.Durations;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.trigger.TriggerParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a ScaledObject (as JSON) into a {@link ScaledObjectSpec}, applying KEDA's defaults and KEDA's checks. The
 * apiserver's schema and CEL rules catch most of these first; this catches them again for input that never went
 * through an apiserver ({@code lagscaler evaluate}).
 */
public final class ScaledObjectParser {
    // Upper bounds, the same as the CRD's schema (crds/keda.sh_scaledobjects.yaml): checked here too, for clusters
    // with an older CRD and for lagscaler evaluate.
    static final int MAX_SECONDS_POLLING = 86_400;
    static final int MAX_SECONDS_COOLDOWN = 2_592_000;
    static final int MAX_REPLICAS = 100_000;
    static final int MAX_FAILURE_THRESHOLD = 10_000;
    static final Duration MIN_FAST_INTERVAL = Duration.ofMillis(100);
    static final Duration MAX_FAST_INTERVAL = Duration.ofHours(1);

    private ScaledObjectParser() {
    }

    public static ScaledObjectSpec parse(JsonNode so) throws ScaledObjectInvalid {
        JsonNode metadata = so.path("metadata");
        JsonNode spec = so.path("spec");
        if (!spec.isObject()) {
            throw invalid("spec is required");
        }
        JsonNode ref = spec.path("scaleTargetRef");
        String targetName = ref.path("name").asText("");
        if (targetName.isEmpty()) {
            throw invalid("spec.scaleTargetRef.name is required");
        }
        ScaledObjectSpec.ScaleTarget target = new ScaledObjectSpec.ScaleTarget(
                ref.path("apiVersion").asText("apps/v1"), ref.path("kind").asText("Deployment"), targetName,
                textOrNull(ref.get("envSourceContainerName")));

        int polling = intField(spec, "pollingInterval", (int) Defaults.POLLING_INTERVAL.toSeconds(), 1, MAX_SECONDS_POLLING);
        int cooldown = intField(spec, "cooldownPeriod", (int) Defaults.COOLDOWN_PERIOD.toSeconds(), 0, MAX_SECONDS_COOLDOWN);
        int initialCooldown = intField(spec, "initialCooldownPeriod", 0, 0, MAX_SECONDS_COOLDOWN);
        int min = intField(spec, "minReplicaCount", 0, 0, MAX_REPLICAS);
        int max = intField(spec, "maxReplicaCount", Defaults.MAX_REPLICA_COUNT, 1, MAX_REPLICAS);
        Integer idle = spec.has("idleReplicaCount") && !spec.get("idleReplicaCount").isNull()
                ? intField(spec, "idleReplicaCount", 0, 0, MAX_REPLICAS) : null;
        if (min > max) {
            throw invalid("MinReplicaCount=" + min + " must be less than MaxReplicaCount=" + max);
        }
        if (idle != null && idle >= min) {
            throw invalid("IdleReplicaCount=" + idle + " must be less than MinReplicaCount=" + min);
        }

        List<ScaledObjectSpec.TriggerSpec> triggers = triggers(spec);

        ScaledObjectSpec.Fallback fallback = null;
        JsonNode fb = spec.path("fallback");
        if (fb.isObject()) {
            String behavior = fb.path("behavior").asText("static");
            ScaledObjectSpec.FallbackBehavior fallbackBehavior = null;
            for (ScaledObjectSpec.FallbackBehavior b : ScaledObjectSpec.FallbackBehavior.values()) {
                if (b.kedaName().equals(behavior)) {
                    fallbackBehavior = b;
                }
            }
            if (fallbackBehavior == null) {
                throw invalid("spec.fallback.behavior \"" + behavior + "\" is not one of static, currentReplicas,"
                        + " currentReplicasIfHigher, currentReplicasIfLower, scalingModifiers");
            }
            if (fallbackBehavior == ScaledObjectSpec.FallbackBehavior.SCALING_MODIFIERS
                    && !spec.path("advanced").path("scalingModifiers").isObject()) {
                throw invalid("spec.fallback.behavior scalingModifiers needs spec.advanced.scalingModifiers");
            }
            fallback = new ScaledObjectSpec.Fallback(intField(fb, "failureThreshold", 3, 0, MAX_FAILURE_THRESHOLD),
                    intField(fb, "replicas", 0, 0, MAX_REPLICAS),
                    fallbackBehavior);
            boolean canFallBack = triggers.stream().anyMatch(tr -> !tr.isResource()
                    && (tr.metricType() == null || tr.metricType().equals("AverageValue") || tr.metricType().equals("Value")));
            if (!canFallBack) {
                throw invalid("fallback needs at least one trigger with metricType AverageValue or Value"
                        + " (cpu and memory triggers cannot fall back)");
            }
        }

        Map<String, String> annotations = stringMap(metadata.path("annotations"));
        String fast = annotations.get(KedaKeys.FAST_ACTIVATION_INTERVAL);
        Duration activationPollingInterval = null;
        if (fast != null) {
            try {
                activationPollingInterval = Durations.parse(KedaKeys.FAST_ACTIVATION_INTERVAL, fast);
            } catch (TriggerParseException e) {
                throw invalid(e.getMessage());
            }
            if (activationPollingInterval.compareTo(MIN_FAST_INTERVAL) < 0
                    || activationPollingInterval.compareTo(MAX_FAST_INTERVAL) > 0) {
                throw invalid(KedaKeys.FAST_ACTIVATION_INTERVAL + " must be between 100ms and 1h, got \"" + fast + "\"");
            }
        }

        JsonNode advanced = spec.path("advanced");
        JsonNode hpaConfig = advanced.path("horizontalPodAutoscalerConfig");
        String name = metadata.path("name").asText("");
        String hpaName = hpaConfig.path("name").asText("");
        JsonNode behavior = hpaConfig.get("behavior");
        ScaledObjectSpec.ScalingModifiers modifiers = scalingModifiers(advanced.path("scalingModifiers"), triggers);
        return new ScaledObjectSpec(metadata.path("namespace").asText("default"), name,
                instant(metadata.get("creationTimestamp")), stringMap(metadata.path("labels")), annotations, target, polling,
                cooldown, initialCooldown, idle, min, max, fallback,
                advanced.path("restoreToOriginalReplicaCount").asBoolean(false),
                hpaName.isEmpty() ? KedaKeys.HPA_PREFIX + name : hpaName,
                behavior == null || behavior.isNull() ? null : behavior.toString(), activationPollingInterval, triggers,
                modifiers);
    }

    /**
     * KEDA's checks of scalingModifiers: a formula and a target are required, the target and activationTarget are
     * numbers, metricType is AverageValue (default) or Value, and the formula compiles over the triggers' names
     * (cpu and memory triggers have no value the operator could put in it).
     */
    private static ScaledObjectSpec.ScalingModifiers scalingModifiers(JsonNode node, List<ScaledObjectSpec.TriggerSpec> triggers)
            throws ScaledObjectInvalid {
        if (!node.isObject()) {
            return null;
        }
        String formula = node.path("formula").asText("");
        if (formula.isBlank()) {
            throw invalid("spec.advanced.scalingModifiers.formula is required when scalingModifiers is set");
        }
        String target = node.path("target").asText("");
        if (target.isBlank()) {
            throw invalid("spec.advanced.scalingModifiers.target is required when scalingModifiers is set");
        }
        double targetValue = number("target", target);
        if (targetValue <= 0) {
            throw invalid("spec.advanced.scalingModifiers.target must be greater than 0, got \"" + target + "\"");
        }
        String activation = node.path("activationTarget").asText("");
        double activationValue = activation.isBlank() ? 0 : number("activationTarget", activation);
        String metricType = node.path("metricType").asText("AverageValue");
        if (!metricType.equals("AverageValue") && !metricType.equals("Value")) {
            throw invalid("spec.advanced.scalingModifiers.metricType must be AverageValue or Value, got \"" + metricType + "\"");
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        triggers.stream().filter(t -> t.name() != null && !t.isResource()).forEach(t -> names.add(t.name()));
        return new ScaledObjectSpec.ScalingModifiers(ScalingFormula.compile(formula, names), targetValue, activationValue,
                metricType);
    }

    private static double number(String field, String value) throws ScaledObjectInvalid {
        try {
            double d = Double.parseDouble(value.trim());
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw invalid("spec.advanced.scalingModifiers." + field + " must be a number, got \"" + value + "\"");
        }
    }

    /** spec.triggers of a ScaledObject or a ScaledJob: at least one, each with a type, names unique. */
    static List<ScaledObjectSpec.TriggerSpec> triggers(JsonNode spec) throws ScaledObjectInvalid {
        List<ScaledObjectSpec.TriggerSpec> triggers = new ArrayList<>();
        JsonNode triggerNodes = spec.path("triggers");
        if (!triggerNodes.isArray() || triggerNodes.isEmpty()) {
            throw invalid("spec.triggers needs at least one trigger");
        }
        for (JsonNode t : triggerNodes) {
            String type = t.path("type").asText("");
            if (type.isEmpty()) {
                throw invalid("spec.triggers[" + triggers.size() + "].type is required");
            }
            JsonNode auth = t.path("authenticationRef");
            triggers.add(new ScaledObjectSpec.TriggerSpec(type, textOrNull(t.get("name")), stringMap(t.path("metadata")),
                    textOrNull(auth.get("name")), auth.path("kind").asText("TriggerAuthentication"),
                    textOrNull(t.get("metricType")), t.path("useCachedMetrics").asBoolean(false)));
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        for (ScaledObjectSpec.TriggerSpec t : triggers) {
            if (t.name() != null && !names.add(t.name())) {
                throw invalid("triggerName \"" + t.name() + "\" is defined multiple times in the ScaledObject/ScaledJob,"
                        + " but it must be unique");
            }
        }
        return triggers;
    }

    static int intField(JsonNode node, String field, int defaultValue, int minimum, int maximum)
            throws ScaledObjectInvalid {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw invalid(field + " must be a whole number, got " + v);
        }
        if (v.asInt() < minimum) {
            throw invalid(field + " must be at least " + minimum + ", got " + v.asInt());
        }
        if (v.asInt() > maximum) {
            throw invalid(field + " must be at most " + maximum + ", got " + v.asInt());
        }
        return v.asInt();
    }

    static Map<String, String> stringMap(JsonNode node) {
        Map<String, String> map = new LinkedHashMap<>();
        if (node != null && node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNull()) {
                    map.put(e.getKey(), e.getValue().asText());
                }
            }
        }
        return map;
    }

    static Instant instant(JsonNode node) {
        if (node == null || node.isNull()) {
            return Instant.EPOCH;
        }
        try {
            return Instant.parse(node.asText());
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }

    static String textOrNull(JsonNode node) {
        return node == null || node.isNull() || node.asText().isEmpty() ? null : node.asText();
    }

    static ScaledObjectInvalid invalid(String message) {
        return new ScaledObjectInvalid("ScaledObjectCheckFailed", message);
    }
}
