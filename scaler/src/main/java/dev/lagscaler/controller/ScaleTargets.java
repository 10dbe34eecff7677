package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.scaling.ScaledObjectSpec;
import io.kubernetes.client.Discovery;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Scale;
import io.kubernetes.client.openapi.models.V1ScaleSpec;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The scale targets of ScaledObjects. apps/v1 Deployments and StatefulSets are read from informer caches and
 * written through their typed /scale; any other kind that serves /scale is read and written there (its plural
 * found through discovery). Every write carries the resourceVersion that was read, so a change in between (the
 * HPA, a user) makes it fail with a conflict instead of overwriting.
 */
final class ScaleTargets {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A target as read: its desired replicas, the version read, and its pod template as JSON (for env), made only when
     * a trigger needs it; null for kinds read through /scale.
     */
    record Target(int replicas, String resourceVersion, Supplier<JsonNode> podTemplate) {
    }

    private final ApiClient client;
    private final AppsV1Api apps;
    private final KubeHttp http;
    private final SharedIndexInformer<V1Deployment> deployments;
    private final SharedIndexInformer<V1StatefulSet> statefulSets;
    private final Map<String, String> plurals = new ConcurrentHashMap<>();

    ScaleTargets(ApiClient client, SharedIndexInformer<V1Deployment> deployments,
                 SharedIndexInformer<V1StatefulSet> statefulSets) {
        this.client = client;
        this.apps = new AppsV1Api(client);
        this.http = new KubeHttp(client);
        this.deployments = deployments;
        this.statefulSets = statefulSets;
    }

    /** The target, or null when it does not exist. */
    Target read(String namespace, ScaledObjectSpec.ScaleTarget target) throws ApiException {
        String key = namespace + "/" + target.name();
        if (isApps(target, "Deployment")) {
            V1Deployment d = deployments.getIndexer().getByKey(key);
            return d == null ? null : new Target(replicas(d.getSpec().getReplicas()), version(d),
                    () -> template(d.getSpec().getTemplate()));
        }
        if (isApps(target, "StatefulSet")) {
            V1StatefulSet s = statefulSets.getIndexer().getByKey(key);
            return s == null ? null : new Target(replicas(s.getSpec().getReplicas()), version(s),
                    () -> template(s.getSpec().getTemplate()));
        }
        try {
            JsonNode scale = JSON.readTree(http.get(scalePath(namespace, target)));
            return new Target(scale.path("spec").path("replicas").asInt(0),
                    scale.path("metadata").path("resourceVersion").asText(), () -> null);
        } catch (ApiException e) {
            if (e.getCode() == 404) {
                return null;
            }
            throw e;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiException("unreadable /scale of " + target.kind() + "/" + target.name());
        }
    }

    /** Sets spec.replicas through /scale, conditional on the version that was read (409 when it moved). */
    void write(String namespace, ScaledObjectSpec.ScaleTarget target, Target read, int replicas) throws ApiException {
        V1Scale scale = new V1Scale().apiVersion("autoscaling/v1").kind("Scale")
                .metadata(new V1ObjectMeta().name(target.name()).namespace(namespace).resourceVersion(read.resourceVersion()))
                .spec(new V1ScaleSpec().replicas(replicas));
        if (isApps(target, "Deployment")) {
            apps.replaceNamespacedDeploymentScale(target.name(), namespace, scale).execute();
        } else if (isApps(target, "StatefulSet")) {
            apps.replaceNamespacedStatefulSetScale(target.name(), namespace, scale).execute();
        } else {
            // Raw call: client-java has no typed /scale for kinds it does not know (custom resources).
            http.put(scalePath(namespace, target), client.getJSON().serialize(scale));
        }
    }

    /** Sets replicas after reading the target afresh (finalization, where no cached read is at hand). */
    void writeFresh(String namespace, ScaledObjectSpec.ScaleTarget target, int replicas) throws ApiException {
        Target read = read(namespace, target);
        if (read != null && read.replicas() != replicas) {
            write(namespace, target, read, replicas);
        }
    }

    private static boolean isApps(ScaledObjectSpec.ScaleTarget target, String kind) {
        return target.apiVersion().equals("apps/v1") && target.kind().equals(kind);
    }

    private static int replicas(Integer replicas) {
        return replicas == null ? 1 : replicas;
    }

    private static String version(KubernetesObject object) {
        return object.getMetadata().getResourceVersion();
    }

    private JsonNode template(V1PodTemplateSpec template) {
        try {
            return JSON.readTree(client.getJSON().serialize(template));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
    }

    private String scalePath(String namespace, ScaledObjectSpec.ScaleTarget target) throws ApiException {
        String apiVersion = target.apiVersion();
        String prefix = apiVersion.contains("/") ? "/apis/" + apiVersion : "/api/" + apiVersion;
        return prefix + "/namespaces/" + namespace + "/" + plural(target) + "/" + target.name() + "/scale";
    }

    private String plural(ScaledObjectSpec.ScaleTarget target) throws ApiException {
        String key = target.apiVersion() + "|" + target.kind();
        String known = plurals.get(key);
        if (known != null) {
            return known;
        }
        String group = target.apiVersion().contains("/") ? target.apiVersion().substring(0, target.apiVersion().indexOf('/')) : "";
        String version = target.apiVersion().substring(target.apiVersion().indexOf('/') + 1);
        for (Discovery.APIResource resource : new Discovery(client).findAll(group, List.of(version), version,
                group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version)) {
            if (resource.getKind().equals(target.kind())) {
                plurals.put(key, resource.getResourcePlural());
                return resource.getResourcePlural();
            }
        }
        throw new ApiException(404, "kind " + target.kind() + " is not served by " + target.apiVersion());
    }
}
