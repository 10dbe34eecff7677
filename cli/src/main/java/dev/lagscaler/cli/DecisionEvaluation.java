package dev.lagscaler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.Defaults;
import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.plan.PlanInput;
import dev.lagscaler.plan.ReconcilePlanner;
import dev.lagscaler.plan.ResolvedTrigger;
import dev.lagscaler.plan.TriggerHealth;
import dev.lagscaler.plan.TriggerType;
import dev.lagscaler.plan.Triggers;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.Decision;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.scaling.ScalingPolicy;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The decision half of {@code lagscaler evaluate}: the operator's own planning step ({@link ReconcilePlanner}) on a
 * ScaledObject and a state given as JSON. The evaluated trigger is the one at triggerIndex; with {@code state.triggerErrors} above 0 it
 * counts as failing that many polls in a row. Other kafka triggers of the object count as measured and inactive.
 */
final class DecisionEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Another kafka trigger of the object: counted as measured, zero and inactive. */
    private static final LagResult UNMEASURED = new LagResult(0, 0, 0, 0, 0, -1, false, -1, false, List.of(),
            PersistentLagMemory.EMPTY);

    private DecisionEvaluation() {
    }

    /** The ScaledObject as a JSON object, or as JSON or YAML text. */
    static ScaledObjectSpec scaledObject(JsonNode node) throws TriggerParseException {
        try {
            JsonNode so = node.isTextual() ? YAML.readTree(node.asText()) : node;
            if (so == null || !so.isObject()) {
                throw new TriggerParseException("scaledObject must be a ScaledObject, as JSON or as YAML text");
            }
            return ScaledObjectParser.parse(so);
        } catch (ScaledObjectInvalid e) {
            throw new TriggerParseException("scaledObject: " + e.getMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new TriggerParseException("scaledObject is not readable YAML or JSON: " + e.getOriginalMessage());
        }
    }

    /**
     * The operator's own planning step on the object: the evaluated trigger (at {@code index}, with {@code settings})
     * measured as {@code lag}, or failing {@code state.triggerErrors} polls in a row; other kafka triggers measured and
     * inactive; every trigger validated by the same trigger types as in the operator.
     */
    static ObjectNode decide(ScaledObjectSpec spec, int index, KafkaTriggerSettings settings, LagResult lag, JsonNode state,
                             Map<String, String> authParams, Map<String, String> env) throws TriggerParseException {
        if (!state.isMissingNode() && !state.isNull() && !state.isObject()) {
            throw new TriggerParseException("state must be an object");
        }
        JsonNode current = state.path("currentReplicas");
        if (!current.isMissingNode() && (!current.canConvertToInt() || current.asInt() < 0)) {
            throw new TriggerParseException("state.currentReplicas must be a whole number of zero or more");
        }
        if (index >= spec.triggers().size()) {
            throw new TriggerParseException("triggerIndex " + index + " is beyond the ScaledObject's "
                    + spec.triggers().size() + " triggers");
        }
        int errors = state.path("triggerErrors").asInt(0);
        Instant now = instant(state, "now", Instant.now());
        Instant lastActive = instant(state, "lastActiveTime", null);
        List<ResolvedTrigger> triggers = new ArrayList<>(Triggers.resolveAll(spec, TriggerType.Context.of(authParams, env)));
        triggers.set(index, new ResolvedTrigger.Kafka(index, settings));
        Map<Integer, TriggerHealth> health = new HashMap<>();
        for (ResolvedTrigger t : triggers) {
            TriggerKey key = new TriggerKey(spec.namespace(), spec.name(), t.index());
            if (t.index() == index && errors > 0) {
                health.put(index, new TriggerHealth(new TriggerResult.Failed(key, now, new TriggerError(
                        TriggerError.Kind.OTHER, "the trigger failed " + errors + " polls in a row")), errors));
            } else if (t instanceof ResolvedTrigger.Kafka) {
                health.put(t.index(), new TriggerHealth(new TriggerResult.Measured(key, now, t.index() == index ? lag
                        : UNMEASURED), 0));
            }
        }
        ObjectNode status = JSON.createObjectNode();
        if (lastActive != null) {
            status.put("lastActiveTime", lastActive.toString());
        }
        Plan plan = ReconcilePlanner.plan(new PlanInput(spec, "evaluate", status, current.asInt(0), null, triggers, health,
                Defaults.FAST_ACTIVATION_INTERVAL, now));
        Decision d = plan.decision();
        ObjectNode out = JSON.createObjectNode();
        out.put("replicas", d.replicas());
        out.put("scaleWrite", d.scaleWrite());
        ObjectNode conditions = out.putObject("conditions");
        for (String type : List.of(ScalingPolicy.READY, ScalingPolicy.ACTIVE, ScalingPolicy.FALLBACK, ScalingPolicy.PAUSED)) {
            Condition c = d.conditions().get(type);
            if (c != null) {
                conditions.putObject(type).put("status", c.status()).put("reason", c.reason()).put("message", c.message());
            }
        }
        out.put("reason", d.reason());
        if (d.lastActiveTime() != null) {
            out.put("lastActiveTime", d.lastActiveTime().toString());
        }
        out.put("hpa", d.hpaWanted());
        return out;
    }

    private static Instant instant(JsonNode state, String field, Instant fallback) throws TriggerParseException {
        JsonNode v = state.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        try {
            return Instant.parse(v.asText());
        } catch (DateTimeParseException e) {
            throw new TriggerParseException("state." + field + " must be an RFC 3339 time like 2026-01-01T00:00:00Z");
        }
    }
}
