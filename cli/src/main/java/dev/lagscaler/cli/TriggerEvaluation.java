package dev.lagscaler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.lag.LagArithmetic;
import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.PartitionOffsets;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import dev.lagscaler.trigger.TriggerParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Turns one {@code evaluate} input document into its result document, through the engine's own pure core. */
final class TriggerEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TriggerEvaluation() {
    }

    static ObjectNode evaluate(JsonNode doc) {
        try {
            if (!doc.isObject()) {
                throw new TriggerParseException("each input document must be a JSON object");
            }
            int index = doc.path("triggerIndex").asInt(0);
            if (doc.has("triggerIndex") && (!doc.get("triggerIndex").canConvertToInt() || index < 0)) {
                throw new TriggerParseException("triggerIndex must be a whole number of zero or more");
            }
            ScaledObjectSpec scaledObject = doc.hasNonNull("scaledObject") ? DecisionEvaluation.scaledObject(doc.get("scaledObject")) : null;
            Map<String, String> metadata = stringMap(doc, "triggerMetadata");
            String metricType = text(doc.get("metricType"));
            if (scaledObject != null && !doc.hasNonNull("triggerMetadata")) {
                if (index >= scaledObject.triggers().size()) {
                    throw new TriggerParseException("triggerIndex " + index + " is beyond the ScaledObject's "
                            + scaledObject.triggers().size() + " triggers");
                }
                metadata = scaledObject.triggers().get(index).metadata();
                metricType = metricType != null ? metricType : scaledObject.triggers().get(index).metricType();
            }
            TriggerInput input = new TriggerInput(metadata, stringMap(doc, "authParams"), stringMap(doc, "resolvedEnv"),
                    metricType);
            KafkaTriggerSettings settings = KafkaTriggerParser.parse(input);
            LagResult lag = LagArithmetic.compute(settings, offsets(doc.get("offsets"), settings),
                    PersistentLagMemory.EMPTY);
            ObjectNode out = JSON.createObjectNode();
            out.put("metricName", settings.metricName(index));
            out.put("metricValue", lag.metricValue());
            out.put("active", lag.active());
            ObjectNode target = out.putObject("target");
            target.put("type", settings.metricType().kubernetesName());
            target.put("value", settings.lagThreshold());
            out.put("activationTarget", settings.activationLagThreshold());
            if (scaledObject != null) {
                out.set("decision", DecisionEvaluation.decide(scaledObject, index, settings, lag, doc.path("state"),
                        input.authParams(), input.resolvedEnv()));
            }
            return out;
        } catch (TriggerParseException e) {
            return JSON.createObjectNode().put("error", e.getMessage());
        }
    }

    private static List<PartitionOffsets> offsets(JsonNode node, KafkaTriggerSettings settings)
            throws TriggerParseException {
        List<PartitionOffsets> offsets = new ArrayList<>();
        if (node == null || node.isNull()) {
            return offsets;
        }
        if (!node.isArray()) {
            throw new TriggerParseException("offsets must be an array");
        }
        for (JsonNode o : node) {
            String topic = text(o.get("topic"));
            if (topic == null) {
                topic = settings.topic();
            }
            if (topic.isEmpty()) {
                throw new TriggerParseException("offsets: each entry needs a topic when the trigger has none");
            }
            if (!o.path("partition").canConvertToInt()) {
                throw new TriggerParseException("offsets: partition must be a whole number");
            }
            int partition = o.get("partition").asInt();
            // Triggers with a topic only count their topic's partitions, after partitionLimitation.
            if (settings.hasTopic() && (!topic.equals(settings.topic()) || !settings.considersPartition(partition))) {
                continue;
            }
            offsets.add(new PartitionOffsets(topic, partition, offset(o, "committed"), offset(o, "latest"),
                    offset(o, "earliest")));
        }
        return offsets;
    }

    /** null, absent or -1 mean "none"; other negatives and non-numbers are errors. */
    private static long offset(JsonNode o, String field) throws TriggerParseException {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return PartitionOffsets.NONE;
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < -1) {
            throw new TriggerParseException("offsets: " + field + " must be a whole number, -1 or null; got " + v);
        }
        return v.asLong();
    }

    private static Map<String, String> stringMap(JsonNode doc, String field) throws TriggerParseException {
        JsonNode node = doc.get(field);
        Map<String, String> map = new HashMap<>();
        if (node == null || node.isNull()) {
            return map;
        }
        if (!node.isObject()) {
            throw new TriggerParseException(field + " must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isContainerNode()) {
                throw new TriggerParseException(field + "." + e.getKey() + " must be a string");
            }
            if (!e.getValue().isNull()) {
                map.put(e.getKey(), e.getValue().asText());
            }
        }
        return map;
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }
}
