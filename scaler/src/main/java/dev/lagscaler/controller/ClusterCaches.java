package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.lagscaler.KedaKeys;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V1StatefulSetList;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscalerList;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What the operator reads, kept current by watches: ScaledObjects (indexed by the trigger authentications they
 * reference), TriggerAuthentications, ClusterTriggerAuthentications, the HPAs this operator made (label-selected),
 * Deployments and StatefulSets. A reconcile reads these, never the apiserver, except /scale of other kinds and
 * Secrets by name.
 */
final class ClusterCaches {
    static final String OWNED_HPAS = "app.kubernetes.io/managed-by=lagscaler";
    private static final String BY_AUTHENTICATION = "authenticationRef";
    private static final ObjectMapper JSON = new ObjectMapper();

    // One factory per dynamic resource (a factory keeps one informer per Java class); the typed kinds share one.
    private final SharedInformerFactory scaledObjectFactory;
    private final List<SharedInformerFactory> factories = new ArrayList<>();
    private final SharedIndexInformer<DynamicKubernetesObject> scaledObjects;
    private final SharedIndexInformer<DynamicKubernetesObject> triggerAuthentications;
    private final SharedIndexInformer<DynamicKubernetesObject> clusterTriggerAuthentications;
    private final SharedIndexInformer<V2HorizontalPodAutoscaler> hpas;
    private final SharedIndexInformer<V1Deployment> deployments;
    private final SharedIndexInformer<V1StatefulSet> statefulSets;

    ClusterCaches(ApiClient client) {
        scaledObjectFactory = factory(client);
        scaledObjects = scaledObjectFactory.sharedIndexInformerFor(dynamic(client, KedaKeys.SCALED_OBJECTS),
                DynamicKubernetesObject.class, 0);
        triggerAuthentications = factory(client).sharedIndexInformerFor(dynamic(client, KedaKeys.TRIGGER_AUTHENTICATIONS),
                DynamicKubernetesObject.class, 0);
        clusterTriggerAuthentications = factory(client).sharedIndexInformerFor(
                dynamic(client, KedaKeys.CLUSTER_TRIGGER_AUTHENTICATIONS), DynamicKubernetesObject.class, 0);
        SharedInformerFactory typed = factory(client);
        AutoscalingV2Api autoscaling = new AutoscalingV2Api(client);
        AppsV1Api apps = new AppsV1Api(client);
        hpas = typed.sharedIndexInformerFor(
                params -> autoscaling.listHorizontalPodAutoscalerForAllNamespaces().labelSelector(OWNED_HPAS)
                        .resourceVersion(params.resourceVersion).timeoutSeconds(params.timeoutSeconds)
                        .watch(params.watch).buildCall(null),
                V2HorizontalPodAutoscaler.class, V2HorizontalPodAutoscalerList.class);
        deployments = typed.sharedIndexInformerFor(
                params -> apps.listDeploymentForAllNamespaces().resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).buildCall(null),
                V1Deployment.class, V1DeploymentList.class);
        statefulSets = typed.sharedIndexInformerFor(
                params -> apps.listStatefulSetForAllNamespaces().resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).buildCall(null),
                V1StatefulSet.class, V1StatefulSetList.class);
        scaledObjects.addIndexers(Map.of(BY_AUTHENTICATION, ClusterCaches::authenticationRefs));
    }

    /** The factory holding the ScaledObject informer, which the controller builder watches. */
    SharedInformerFactory scaledObjectFactory() {
        return scaledObjectFactory;
    }

    void start() {
        factories.forEach(SharedInformerFactory::startAllRegisteredInformers);
    }

    void stop() {
        factories.forEach(SharedInformerFactory::stopAllRegisteredInformers);
    }

    boolean hasSynced() {
        return scaledObjects.hasSynced() && triggerAuthentications.hasSynced() && clusterTriggerAuthentications.hasSynced()
                && hpas.hasSynced() && deployments.hasSynced() && statefulSets.hasSynced();
    }

    /** The caches that have not synced yet, by kind (for the log line of a leader that gives up). */
    java.util.List<String> notSynced() {
        java.util.List<String> kinds = new java.util.ArrayList<>();
        java.util.Map<String, io.kubernetes.client.informer.SharedIndexInformer<?>> all = new java.util.LinkedHashMap<>();
        all.put("ScaledObject", scaledObjects);
        all.put("TriggerAuthentication", triggerAuthentications);
        all.put("ClusterTriggerAuthentication", clusterTriggerAuthentications);
        all.put("HorizontalPodAutoscaler", hpas);
        all.put("Deployment", deployments);
        all.put("StatefulSet", statefulSets);
        all.forEach((kind, informer) -> {
            if (!informer.hasSynced()) {
                kinds.add(kind);
            }
        });
        return kinds;
    }

    /** By "namespace/name"; null when absent. */
    JsonNode scaledObject(String key) {
        return json(scaledObjects.getIndexer().getByKey(key));
    }

    JsonNode triggerAuthentication(String key) {
        return json(triggerAuthentications.getIndexer().getByKey(key));
    }

    JsonNode clusterTriggerAuthentication(String name) {
        return json(clusterTriggerAuthentications.getIndexer().getByKey(name));
    }

    V2HorizontalPodAutoscaler hpa(String key) {
        return hpas.getIndexer().getByKey(key);
    }

    SharedIndexInformer<V1Deployment> deployments() {
        return deployments;
    }

    SharedIndexInformer<V1StatefulSet> statefulSets() {
        return statefulSets;
    }

    /**
     * Wakes ScaledObjects when something they depend on changes: a (Cluster)TriggerAuthentication they reference
     * (found through the index), or an HPA of theirs whose spec someone else changed or that was deleted. The HPA
     * controller's status writes (every sync period) wake nothing.
     */
    void wakeDependents(Consumer<Request> wake) {
        ResourceEventHandler<DynamicKubernetesObject> authChanged = onEveryChange(auth -> {
            String namespace = auth.getMetadata().getNamespace();
            String kind = namespace == null ? "ClusterTriggerAuthentication" : "TriggerAuthentication";
            scaledObjects.getIndexer().byIndex(BY_AUTHENTICATION, authKey(kind, namespace, auth.getMetadata().getName()))
                    .forEach(so -> wake.accept(new Request(so.getMetadata().getNamespace(), so.getMetadata().getName())));
        });
        triggerAuthentications.addEventHandler(authChanged);
        clusterTriggerAuthentications.addEventHandler(authChanged);
        Consumer<V2HorizontalPodAutoscaler> owner = hpa -> {
            Map<String, String> labels = hpa.getMetadata().getLabels();
            if (labels != null && labels.containsKey(KedaKeys.SCALED_OBJECT_LABEL)) {
                wake.accept(new Request(hpa.getMetadata().getNamespace(), labels.get(KedaKeys.SCALED_OBJECT_LABEL)));
            }
        };
        hpas.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(V2HorizontalPodAutoscaler hpa) {
            }

            @Override
            public void onUpdate(V2HorizontalPodAutoscaler oldHpa, V2HorizontalPodAutoscaler newHpa) {
                if (!Objects.equals(oldHpa.getMetadata().getGeneration(), newHpa.getMetadata().getGeneration())) {
                    owner.accept(newHpa);
                }
            }

            @Override
            public void onDelete(V2HorizontalPodAutoscaler hpa, boolean unknown) {
                owner.accept(hpa);
            }
        });
    }

    /** The (Cluster)TriggerAuthentications a ScaledObject's triggers reference, as index keys. */
    private static List<String> authenticationRefs(DynamicKubernetesObject so) {
        List<String> refs = new ArrayList<>();
        JsonObject spec = so.getRaw().has("spec") && so.getRaw().get("spec").isJsonObject()
                ? so.getRaw().getAsJsonObject("spec") : new JsonObject();
        JsonArray triggers = spec.has("triggers") && spec.get("triggers").isJsonArray()
                ? spec.getAsJsonArray("triggers") : new JsonArray();
        for (JsonElement t : triggers) {
            JsonElement ref = t.isJsonObject() ? t.getAsJsonObject().get("authenticationRef") : null;
            if (ref == null || !ref.isJsonObject() || !ref.getAsJsonObject().has("name")) {
                continue;
            }
            JsonElement kind = ref.getAsJsonObject().get("kind");
            boolean cluster = kind != null && kind.isJsonPrimitive() && "ClusterTriggerAuthentication".equals(kind.getAsString());
            refs.add(authKey(cluster ? "ClusterTriggerAuthentication" : "TriggerAuthentication",
                    cluster ? null : so.getMetadata().getNamespace(), ref.getAsJsonObject().get("name").getAsString()));
        }
        return refs;
    }

    private static String authKey(String kind, String namespace, String name) {
        return kind + "/" + (namespace == null ? "" : namespace) + "/" + name;
    }

    private SharedInformerFactory factory(ApiClient client) {
        SharedInformerFactory f = new SharedInformerFactory(client);
        factories.add(f);
        return f;
    }

    private static DynamicKubernetesApi dynamic(ApiClient client, String plural) {
        return new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, plural, client);
    }

    private static <T extends KubernetesObject> ResourceEventHandler<T> onEveryChange(
            Consumer<T> action) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                action.accept(obj);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                action.accept(newObj);
            }

            @Override
            public void onDelete(T obj, boolean unknown) {
                action.accept(obj);
            }
        };
    }

    private static JsonNode json(DynamicKubernetesObject obj) {
        if (obj == null) {
            return null;
        }
        try {
            return JSON.readTree(obj.getRaw().toString());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("unreadable object from the informer cache", e);
        }
    }
}
