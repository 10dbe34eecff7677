package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.plan.JobPlanner;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobList;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.util.List;
import java.util.Map;

/**
 * What the ScaledJob controller reads, kept current by watches: ScaledJobs, and the Jobs made for them (selected by
 * {@code scaledjob.keda.sh/name}, indexed by namespace and ScaledJob).
 */
final class ScaledJobCaches {
    private static final String BY_SCALED_JOB = "scaledJob";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SharedInformerFactory scaledJobFactory;
    private final SharedInformerFactory jobFactory;
    private final SharedIndexInformer<DynamicKubernetesObject> scaledJobs;
    private final SharedIndexInformer<V1Job> jobs;

    ScaledJobCaches(ApiClient client) {
        scaledJobFactory = new SharedInformerFactory(client);
        scaledJobs = scaledJobFactory.sharedIndexInformerFor(ReleasingListerWatcher.dynamic(new DynamicKubernetesApi(
                KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.SCALED_JOBS, client)), DynamicKubernetesObject.class, 0);
        jobFactory = new SharedInformerFactory(client);
        BatchV1Api batch = new BatchV1Api(client);
        jobs = jobFactory.sharedIndexInformerFor(ReleasingListerWatcher.typed(client,
                (params, limit, next) -> batch.listJobForAllNamespaces()
                        .labelSelector(JobPlanner.SCALED_JOB_LABEL).resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).limit(limit)._continue(next)
                        .buildCall(null),
                V1Job.class, V1JobList.class, ClusterCaches::withoutManagedFields), V1Job.class, 0);
        scaledJobs.setTransform(ClusterCaches::compactResource);
        jobs.setTransform(ClusterCaches::withoutManagedFields);
        jobs.addIndexers(Map.of(BY_SCALED_JOB, job -> List.of(job.getMetadata().getNamespace() + "/"
                + job.getMetadata().getLabels().get(JobPlanner.SCALED_JOB_LABEL))));
    }

    /** The factory holding the ScaledJob informer, which the controller builder watches. */
    SharedInformerFactory scaledJobFactory() {
        return scaledJobFactory;
    }

    SharedIndexInformer<V1Job> jobs() {
        return jobs;
    }

    void start() {
        scaledJobFactory.startAllRegisteredInformers();
        jobFactory.startAllRegisteredInformers();
    }

    void stop() {
        scaledJobFactory.stopAllRegisteredInformers();
        jobFactory.stopAllRegisteredInformers();
    }

    boolean hasSynced() {
        return scaledJobs.hasSynced() && jobs.hasSynced();
    }

    /** By "namespace/name"; null when absent. */
    JsonNode scaledJob(String key) {
        DynamicKubernetesObject obj = scaledJobs.getIndexer().getByKey(key);
        if (obj == null) {
            return null;
        }
        try {
            return JSON.readTree(obj.getRaw().toString());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("unreadable object from the informer cache", e);
        }
    }

    /** Each cached ScaledJob's "namespace/name" and uid. */
    void forEachScaledJob(java.util.function.BiConsumer<String, String> keyAndUid) {
        scaledJobs.getIndexer().list().forEach(sj -> keyAndUid.accept(
                sj.getMetadata().getNamespace() + "/" + sj.getMetadata().getName(), sj.getMetadata().getUid()));
    }

    /** The Jobs made for the ScaledJob "namespace/name". */
    List<V1Job> jobsOf(String key) {
        return jobs.getIndexer().byIndex(BY_SCALED_JOB, key);
    }
}
