package dev.lagscaler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.scaling.JobScalingPolicy;
import dev.lagscaler.scaling.ScaledJobParser;
import dev.lagscaler.scaling.ScaledJobSpec;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import dev.lagscaler.trigger.TriggerParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The ScaledJob half of {@code lagscaler evaluate}: the Jobs one pass creates for a ScaledJob, a queue length (the
 * lag; one number for every kafka trigger, or an array by trigger index) and the running and pending Job counts,
 * with KEDA's arithmetic ({@link JobScalingPolicy}), the same the operator uses.
 */
final class JobEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private JobEvaluation() {
    }

    static ObjectNode evaluate(JsonNode doc) {
        ObjectNode out = JSON.createObjectNode();
        try {
            JsonNode node = doc.get("scaledJob");
            JsonNode sj = node.isTextual() ? YAML.readTree(node.asText()) : node;
            if (sj == null || !sj.isObject()) {
                throw new TriggerParseException("scaledJob must be a ScaledJob, as JSON or as YAML text");
            }
            ScaledJobSpec spec = ScaledJobParser.parse(sj);
            long running = count(doc, "runningJobCount");
            long pending = count(doc, "pendingJobCount");
            List<JobScalingPolicy.TriggerMetrics> metrics = new ArrayList<>();
            for (int i = 0; i < spec.triggers().size(); i++) {
                ScaledObjectSpec.TriggerSpec trigger = spec.triggers().get(i);
                if (!trigger.type().equals("kafka")) {
                    throw new TriggerParseException("trigger " + i + " has type \"" + trigger.type()
                            + "\": lagscaler evaluates kafka triggers");
                }
                KafkaTriggerSettings settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(trigger.metadata()));
                double queue = queueLength(doc.path("queueLength"), i);
                metrics.add(JobScalingPolicy.TriggerMetrics.of(queue, settings.lagThreshold(), spec.maxJobs(),
                        queue > settings.activationLagThreshold()));
            }
            JobScalingPolicy.JobDecision d = JobScalingPolicy.decide(spec, metrics, running, pending);
            out.put("jobsToCreate", d.jobsToCreate());
            out.put("active", d.active());
            out.put("queueLength", d.queueLength());
            out.put("jobsAskedFor", d.maxScale());
            out.put("runningJobCount", d.running());
            out.put("pendingJobCount", d.pending());
            out.put("effectiveMaxScale", d.effectiveMaxScale());
            out.put("strategy", spec.scalingStrategy().strategy());
            out.put("multipleScalersCalculation", spec.scalingStrategy().multipleScalersCalculation());
            out.put("minReplicaCount", spec.minJobs());
            out.put("maxReplicaCount", spec.maxJobs() + spec.minJobs());
            out.put("reason", d.reason());
        } catch (ScaledObjectInvalid e) {
            out.put("error", "scaledJob: " + e.getMessage());
        } catch (TriggerParseException e) {
            out.put("error", e.getMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            out.put("error", "scaledJob is not YAML: " + e.getOriginalMessage());
        }
        return out;
    }

    private static long count(JsonNode doc, String field) throws TriggerParseException {
        JsonNode n = doc.get(field);
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < 0) {
            throw new TriggerParseException(field + " must be a whole number of zero or more, got " + n);
        }
        return n.asLong();
    }

    private static double queueLength(JsonNode node, int index) throws TriggerParseException {
        JsonNode value = node.isArray() ? node.get(index) : node;
        if (value == null || value.isMissingNode() || value.isNull()) {
            throw new TriggerParseException("queueLength is required: the lag, one number, or an array by trigger index"
                    + (node.isArray() ? " (none for trigger " + index + ")" : ""));
        }
        if (!value.isNumber() || value.asDouble() < 0) {
            throw new TriggerParseException("queueLength must be a number of zero or more, got " + value);
        }
        return value.asDouble();
    }
}
