package dev.lagscaler.controller;

import com.google.gson.JsonObject;
import dev.lagscaler.plan.JobPlanner;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobCondition;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.options.ListOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A ScaledJob's Jobs as its planner reads them (finished or not, when, pending by KEDA's rule over their pods), for
 * the controller and for {@code lagscaler explain}.
 */
public final class JobReads {
    private JobReads() {
    }

    /** Each Job as the planner needs it, with one list of the pods of the unfinished ones. */
    public static List<JobPlanner.ExistingJob> existing(ApiClient client, String namespace, List<V1Job> jobs,
                                                        List<String> pendingPodConditions) throws ApiException {
        Map<String, List<JobPlanner.JobPod>> pods = podsOfUnfinished(client, namespace, jobs);
        List<JobPlanner.ExistingJob> out = new ArrayList<>();
        for (V1Job job : jobs) {
            out.add(existing(job, pods.getOrDefault(job.getMetadata().getName(), List.of()), pendingPodConditions));
        }
        return out;
    }

    /**
     * The pods of the unfinished Jobs, by Job name, from one list by the Job controller's {@code job-name} label (as
     * KEDA reads them): what decides whether a Job is pending. Read generically: client-java's typed Pod refuses
     * fields newer kubelets write.
     */
    private static Map<String, List<JobPlanner.JobPod>> podsOfUnfinished(ApiClient client, String namespace,
                                                                        List<V1Job> jobs) throws ApiException {
        List<String> unfinished = jobs.stream().filter(j -> finished(j) == null).map(j -> j.getMetadata().getName()).toList();
        Map<String, List<JobPlanner.JobPod>> byJob = new HashMap<>();
        if (unfinished.isEmpty()) {
            return byJob;
        }
        ListOptions options = new ListOptions();
        options.setLabelSelector("job-name in (" + String.join(",", unfinished) + ")");
        var response = new DynamicKubernetesApi("", "v1", "pods", client).list(namespace, options);
        if (!response.isSuccess()) {
            throw new ApiException(response.getHttpStatusCode(), "listing the pods of " + unfinished + ": "
                    + (response.getStatus() == null ? "" : response.getStatus().getMessage()));
        }
        for (var pod : response.getObject().getItems()) {
            JsonObject raw = pod.getRaw();
            JsonObject podStatus = raw.has("status") ? raw.getAsJsonObject("status") : new JsonObject();
            Map<String, String> conditions = new HashMap<>();
            if (podStatus.has("conditions")) {
                podStatus.getAsJsonArray("conditions").forEach(c -> conditions.put(
                        c.getAsJsonObject().get("type").getAsString(), c.getAsJsonObject().get("status").getAsString()));
            }
            String phase = podStatus.has("phase") ? podStatus.get("phase").getAsString() : "";
            var labels = pod.getMetadata().getLabels();
            String job = labels == null ? null : labels.get("job-name");
            if (job != null) {
                byJob.computeIfAbsent(job, k -> new ArrayList<>()).add(new JobPlanner.JobPod(phase, conditions));
            }
        }
        return byJob;
    }

    /** The Job's Complete or Failed condition when True, else null. */
    private static V1JobCondition finished(V1Job job) {
        V1JobCondition finished = null;
        if (job.getStatus() != null && job.getStatus().getConditions() != null) {
            for (V1JobCondition c : job.getStatus().getConditions()) {
                if ((c.getType().equals("Complete") || c.getType().equals("Failed")) && "True".equals(c.getStatus())) {
                    finished = c;
                }
            }
        }
        return finished;
    }

    /** A Job as the planner needs it: finished (Complete or Failed) and when, pending by KEDA's rule over its pods. */
    static JobPlanner.ExistingJob existing(V1Job job, List<JobPlanner.JobPod> pods, List<String> pendingPodConditions) {
        V1JobCondition finished = finished(job);
        Instant at = null;
        if (finished != null) {
            at = job.getStatus().getCompletionTime() != null ? job.getStatus().getCompletionTime().toInstant()
                    : finished.getLastTransitionTime() == null ? null : finished.getLastTransitionTime().toInstant();
        }
        Map<String, String> annotations = job.getMetadata().getAnnotations();
        return new JobPlanner.ExistingJob(job.getMetadata().getName(), finished == null ? null : finished.getType(), at,
                finished == null && JobPlanner.pending(pods, pendingPodConditions),
                annotations == null ? null : annotations.get(JobPlanner.TEMPLATE_HASH));
    }
}
