package dev.lagscaler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.lag.LagResult;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.Decision;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.scaling.ScalingInput;
import dev.lagscaler.scaling.ScalingPolicy;
import dev.lagscaler.scaling.TriggerOutcome;
import dev.lagscaler.trigger.TriggerParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The decision half of {@code lagscaler evaluate}: the controller's own {@link ScalingPolicy} on a ScaledObject and a
 * state given as JSON. The evaluated trigger is the one at triggerIndex; with {@code state.triggerErrors} above 0 it
 * counts as failing that many polls in a row. Other kafka triggers of the object count as measured and inactive.
 */
final class DecisionEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

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

    static ObjectNode decide(ScaledObjectSpec spec, int index, LagResult lag, JsonNode state) throws TriggerParseException {
        if (!state.isMissingNode() && !state.isNull() && !state.isObject()) {
            throw new TriggerParseException("state must be an object");
        }
        JsonNode current = state.path("currentReplicas");
        if (!current.isMissingNode() && (!current.canConvertToInt() || current.asInt() < 0)) {
            throw new TriggerParseException("state.currentReplicas must be a whole number of zero or more");
        }
        int errors = state.path("triggerErrors").asInt(0);
        Instant now = instant(state, "now", Instant.now());
        Instant lastActive = instant(state, "lastActiveTime", null);
        List<TriggerOutcome> outcomes = new ArrayList<>();
        for (int i = 0; i < spec.triggers().size(); i++) {
            ScaledObjectSpec.TriggerSpec t = spec.triggers().get(i);
            if (i == index) {
                outcomes.add(errors > 0 ? TriggerOutcome.failed(i, errors, "the trigger failed " + errors + " polls in a row")
                        : TriggerOutcome.measured(i, lag.metricValue(), lag.active()));
            } else if (t.isResource()) {
                outcomes.add(new TriggerOutcome(i, t.type(), TriggerOutcome.State.RESOURCE, false, 0, 0, null));
            } else if (t.type().equals("kafka")) {
                outcomes.add(TriggerOutcome.measured(i, 0, false));
            } else {
                outcomes.add(new TriggerOutcome(i, t.type(), TriggerOutcome.State.UNSUPPORTED, false, 0, 0, null));
            }
        }
        Decision d = ScalingPolicy.decide(new ScalingInput(spec, outcomes, current.asInt(0), lastActive, now));
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
