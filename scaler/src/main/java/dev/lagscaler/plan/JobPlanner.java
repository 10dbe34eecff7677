package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.JobScalingPolicy;
import dev.lagscaler.scaling.ScaledJobSpec;
import dev.lagscaler.scaling.ScalingPolicy;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pure middle of a ScaledJob reconcile, as KEDA's executor does it: from the ScaledJob, its Jobs and one
 * snapshot of its kafka triggers' results to the Jobs to create (and their manifest), the Jobs to delete (history
 * beyond the limits; with the default rollout, running Jobs of an older template), the status and the Events.
 */
public final class JobPlanner {
    /** Ours: the digest of the Job template a Job was made from, so a spec change can be rolled out. */
    public static final String TEMPLATE_HASH = "lagscaler.dev/job-template-hash";
    public static final String SCALED_JOB_LABEL = "scaledjob.keda.sh/name";
    private static final ObjectMapper JSON = new ObjectMapper();

    private JobPlanner() {
    }

    /** A Job of the ScaledJob as read: whether it finished (Complete or Failed, else null), when, and if pending. */
    public record ExistingJob(String name, String finished, Instant finishedAt, boolean pending, String templateHash) {
    }

    /** A pod of a Job as the pending rule reads it: its phase and its conditions (type to status). */
    public record JobPod(String phase, Map<String, String> conditions) {
    }

    /**
     * KEDA's pending rule for an unfinished Job (executor scale_jobs.go, getPendingJobCount): without
     * {@code pendingPodConditions}, pending until one of its pods is Running or Succeeded; with them, pending until one
     * pod has every listed condition True. As KEDA counts, a pod must fulfil as many conditions as the list has entries,
     * so a condition listed twice is never fulfilled.
     */
    public static boolean pending(List<JobPod> pods, List<String> pendingPodConditions) {
        if (pendingPodConditions.isEmpty()) {
            return pods.stream().noneMatch(p -> "Running".equals(p.phase()) || "Succeeded".equals(p.phase()));
        }
        for (JobPod pod : pods) {
            long fulfilled = pod.conditions().entrySet().stream()
                    .filter(c -> "True".equals(c.getValue()) && pendingPodConditions.contains(c.getKey())).count();
            if (fulfilled == pendingPodConditions.size()) {
                return false;
            }
        }
        return true;
    }

    /** Everything a ScaledJob reconcile decides from. */
    public record JobPlanInput(ScaledJobSpec spec, String uid, JsonNode status, List<ExistingJob> jobs,
                               Map<Integer, KafkaTriggerSettings> kafka, Map<Integer, TriggerHealth> health,
                               Duration fastInterval, Instant now) {
    }

    /** What one pass does: create {@code create} Jobs from {@code job}, delete {@code delete}, write the status. */
    public record JobPlan(JobScalingPolicy.JobDecision decision, int create, ObjectNode job, List<String> delete,
                          ObjectNode status, List<Plan.Event> events, Duration pollInterval, boolean idle) {
    }

    public static JobPlan plan(JobPlanInput in) {
        ScaledJobSpec spec = in.spec();
        String hash = templateHash(spec);
        List<ExistingJob> running = in.jobs().stream().filter(j -> j.finished() == null).toList();
        long pending = running.stream().filter(ExistingJob::pending).count();

        // A measurement older than the last Job that finished may still count the records that Job consumed (its
        // commit came after the poll): it creates no Jobs; the next poll (within pollingInterval) decides. Job
        // times are whole seconds, hence the second added.
        Instant lastFinished = in.jobs().stream().map(ExistingJob::finishedAt).filter(java.util.Objects::nonNull)
                .max(Comparator.naturalOrder()).map(t -> t.plusSeconds(1)).orElse(null);
        List<JobScalingPolicy.TriggerMetrics> metrics = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        boolean waiting = false;
        for (Map.Entry<Integer, KafkaTriggerSettings> e : in.kafka().entrySet()) {
            TriggerHealth h = in.health().getOrDefault(e.getKey(), TriggerHealth.PENDING);
            if (h.latest() instanceof TriggerResult.Measured m && lastFinished != null && m.at().isBefore(lastFinished)) {
                waiting = true;
            } else if (h.latest() instanceof TriggerResult.Measured m) {
                metrics.add(JobScalingPolicy.TriggerMetrics.of(m.lag().metricValue(), e.getValue().lagThreshold(),
                        spec.maxJobs(), m.lag().active()));
            } else if (h.latest() instanceof TriggerResult.Failed f) {
                errors.add("trigger " + e.getKey() + ": " + f.error());
            } else {
                waiting = true;
            }
        }
        JobScalingPolicy.JobDecision decision = JobScalingPolicy.decide(spec, metrics, running.size(), pending);
        int create = waiting ? 0 : (int) decision.jobsToCreate();

        List<String> delete = new ArrayList<>(history(in.jobs(), "Complete", spec.successfulJobsHistoryLimit()));
        delete.addAll(history(in.jobs(), "Failed", spec.failedJobsHistoryLimit()));
        if (!spec.rollout().gradual()) {
            // The default rollout: Jobs of an older template stop; gradual lets them finish.
            running.stream().filter(j -> j.templateHash() != null && !j.templateHash().equals(hash))
                    .forEach(j -> delete.add(j.name()));
        }

        Map<String, Condition> conditions = new LinkedHashMap<>();
        if (!errors.isEmpty()) {
            conditions.put(ScalingPolicy.READY, decision.active()
                    ? Condition.unknown("PartialTriggerError", "Some triggers defined in ScaledJob are not working correctly: "
                    + String.join("; ", errors))
                    : Condition.no("TriggerError", "Triggers defined in ScaledJob are not working correctly: "
                    + String.join("; ", errors)));
        } else {
            conditions.put(ScalingPolicy.READY, Condition.yes("ScaledJobReady", "ScaledJob is defined correctly and is ready for scaling"));
        }
        conditions.put(ScalingPolicy.ACTIVE, decision.active()
                ? Condition.yes("ScalerActive", "Scaling is performed because triggers are active")
                : Condition.no("ScalerNotActive", "Scaling is not performed because triggers are not active"));
        conditions.put(ScalingPolicy.PAUSED, spec.paused() ? Condition.yes("ScaledJobPaused", "ScaledJob is paused")
                : Condition.no("ScaledJobUnpaused", "ScaledJob is not paused"));
        ObjectNode status = JSON.createObjectNode();
        JsonNode last = in.status().path("lastActiveTime");
        if (decision.active()) {
            status.put("lastActiveTime", in.now().toString());
        } else if (last.isTextual()) {
            status.put("lastActiveTime", last.asText());
        }
        StatusDocument.triggerTypes(status, spec.triggers());
        status.set("conditions", StatusDocument.conditions(in.status(), conditions, in.now(),
                List.of(ScalingPolicy.READY, ScalingPolicy.ACTIVE, ScalingPolicy.PAUSED)));

        List<Plan.Event> events = new ArrayList<>();
        boolean wasActive = "True".equals(StatusDocument.conditionStatus(in.status(), ScalingPolicy.ACTIVE));
        if (decision.active() && !wasActive) {
            events.add(new Plan.Event("Normal", "ScaledJobActive", "Scaling is performed because triggers are active"));
        } else if (!decision.active() && wasActive) {
            events.add(new Plan.Event("Normal", "ScaledJobInactive", "Scaling is not performed because triggers are not active"));
        }
        if (!errors.isEmpty()) {
            events.add(new Plan.Event("Warning", "KEDAScalerFailed", String.join("; ", errors)));
        }
        boolean idle = !decision.active() && running.isEmpty();
        Duration interval = idle ? in.fastInterval() : Duration.ofSeconds(spec.pollingIntervalSeconds());
        return new JobPlan(decision, create, create > 0 ? job(spec, in.uid(), hash) : null, delete,
                status.equals(in.status()) ? null : status, events, interval, idle);
    }

    /** A ScaledJob that cannot be acted on: Ready=False with the reason, an Event when it is new, no Jobs. */
    public static JobPlan notReady(JsonNode oldStatus, String reason, String message, Instant now) {
        ObjectNode status = oldStatus.isObject() ? ((ObjectNode) oldStatus).deepCopy() : JSON.createObjectNode();
        Map<String, Condition> conditions = new LinkedHashMap<>();
        conditions.put(ScalingPolicy.READY, Condition.no(reason, message));
        conditions.put(ScalingPolicy.ACTIVE, Condition.unknown(reason, "Not evaluated: the ScaledJob is not ready"));
        status.set("conditions", StatusDocument.conditions(oldStatus, conditions, now,
                List.of(ScalingPolicy.READY, ScalingPolicy.ACTIVE, ScalingPolicy.PAUSED)));
        JsonNode ready = StatusDocument.condition(oldStatus, ScalingPolicy.READY);
        boolean news = ready == null || !message.equals(ready.path("message").asText());
        return new JobPlan(null, 0, null, List.of(), status.equals(oldStatus) ? null : status,
                news ? List.of(new Plan.Event("Warning", reason, message)) : List.of(), null, false);
    }

    /** KEDA's cleanUp: finished Jobs of one kind beyond the history limit, oldest first. */
    static List<String> history(List<ExistingJob> jobs, String finished, int limit) {
        List<ExistingJob> done = jobs.stream().filter(j -> finished.equals(j.finished()))
                .sorted(Comparator.comparing(ExistingJob::finishedAt, Comparator.nullsFirst(Comparator.naturalOrder())))
                .toList();
        return done.subList(0, Math.max(0, done.size() - limit)).stream().map(ExistingJob::name).toList();
    }

    /**
     * The Job KEDA's generateJobs makes: generateName {@code <scaledjob>-}, KEDA's labels with the ScaledJob's own,
     * its annotations, the ScaledJob as controlling owner, and jobTargetRef as the spec.
     */
    static ObjectNode job(ScaledJobSpec spec, String uid, String hash) {
        ObjectNode job = JSON.createObjectNode();
        job.put("apiVersion", "batch/v1");
        job.put("kind", "Job");
        ObjectNode meta = job.putObject("metadata");
        meta.put("generateName", spec.name() + "-");
        meta.put("namespace", spec.namespace());
        ObjectNode labels = meta.putObject("labels");
        labels.put("app.kubernetes.io/name", spec.name());
        labels.put("app.kubernetes.io/part-of", spec.name());
        labels.put("app.kubernetes.io/managed-by", "lagscaler");
        spec.labels().forEach(labels::put);
        labels.put(SCALED_JOB_LABEL, spec.name());
        ObjectNode annotations = meta.putObject("annotations");
        spec.annotations().forEach(annotations::put);
        annotations.put(TEMPLATE_HASH, hash);
        HpaBuilder.controllingOwner(meta, "ScaledJob", spec.name(), uid);
        try {
            job.set("spec", JSON.readTree(spec.jobTemplate()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("jobTargetRef is not JSON", e);
        }
        return job;
    }

    static String templateHash(ScaledJobSpec spec) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(spec.jobTemplate().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
