package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.plan.AdmissionRules;
import dev.lagscaler.plan.TargetClaims;
import dev.lagscaler.scaling.ScaledJobParser;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1LimitRange;
import io.kubernetes.client.openapi.models.V1LimitRangeItem;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validating admission webhook for ScaledObjects ({@code POST /validate-keda-sh-v1alpha1-scaledobject}, an
 * AdmissionReview v1), served over TLS by every operator replica, leader or standby, so it answers through a
 * failover. It reads what it needs from the apiserver at each review (a standby holds no caches): the namespace's
 * ScaledObjects and HPAs, the target's pod template, its LimitRanges; {@link AdmissionRules} decides. When it cannot
 * read, it admits: the controller checks the same again, and an outage never blocks a deploy (the chart registers
 * it with {@code failurePolicy: Ignore}, as KEDA does). The serving certificate is reloaded when its files change.
 */
public final class AdmissionWebhook implements AutoCloseable {
    public static final String PATH = "/validate-keda-sh-v1alpha1-scaledobject";
    /** ScaledJobs: refused when they do not parse (KEDA's checks: duplicate trigger names, enums, bounds). */
    public static final String JOB_PATH = "/validate-keda-sh-v1alpha1-scaledjob";
    private static final Logger LOG = LoggerFactory.getLogger(AdmissionWebhook.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx;
    private final HttpServer server;
    private final ApiClient client;

    private AdmissionWebhook(Vertx vertx, HttpServer server, ApiClient client) {
        this.vertx = vertx;
        this.server = server;
        this.client = client;
    }

    /** Serves on host:port with the PEM certificate and key files (checked for changes every 10 s). */
    public static AdmissionWebhook start(String host, int port, Path certificate, Path key, ApiClient client)
            throws Exception {
        Vertx vertx = Vertx.vertx();
        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port).setSsl(true)
                .setKeyCertOptions(keyCert(certificate, key)));
        AdmissionWebhook webhook = new AdmissionWebhook(vertx, server, client);
        server.requestHandler(request -> {
            boolean job = request.path().equals(JOB_PATH);
            if (!request.method().name().equals("POST") || !(job || request.path().equals(PATH))) {
                request.response().setStatusCode(404).end();
                return;
            }
            request.body().onSuccess(body -> vertx.executeBlocking(() -> webhook.review(JSON.readTree(body.getBytes()), job), false)
                    .onComplete(done -> {
                        if (done.succeeded()) {
                            request.response().putHeader("Content-Type", "application/json").end(done.result().toString());
                        } else {
                            request.response().setStatusCode(400).end();
                        }
                    }));
        });
        try {
            server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw e;
        }
        String[] inUse = {Files.readString(certificate) + Files.readString(key)};
        vertx.setPeriodic(10_000, id -> {
            try {
                String now = Files.readString(certificate) + Files.readString(key);
                if (!now.equals(inUse[0])) {
                    inUse[0] = now;
                    server.updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(keyCert(certificate, key)), true);
                    LOG.info("webhook serving certificate reloaded");
                }
            } catch (java.io.IOException | RuntimeException e) {
                LOG.warn("webhook serving certificate not reloaded: {}", e.toString()); // mid-rotation: next look
            }
        });
        LOG.atInfo().addKeyValue("port", server.actualPort()).log("admission webhook serving");
        return webhook;
    }

    public int port() {
        return server.actualPort();
    }

    /** The AdmissionReview answer to one request, for a ScaledObject or ({@code job}) a ScaledJob. */
    ObjectNode review(JsonNode review, boolean job) {
        JsonNode request = review.path("request");
        ObjectNode answer = JSON.createObjectNode();
        answer.put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode response = answer.putObject("response");
        response.put("uid", request.path("uid").asText());
        String operation = request.path("operation").asText();
        Optional<String> refusal = Optional.empty();
        if ((operation.equals("CREATE") || operation.equals("UPDATE")) && request.path("object").isObject()) {
            try {
                refusal = job ? jobRefusal(request.path("object")) : refusal(request.path("object"),
                        request.path("namespace").asText());
            } catch (ApiException e) {
                LOG.warn("admission review of {}/{} could not read the cluster (HTTP {}): admitted; the controller checks"
                        + " it again", request.path("namespace").asText(), request.path("name").asText(), e.getCode());
            }
        }
        response.put("allowed", refusal.isEmpty());
        refusal.ifPresent(message -> {
            response.putObject("status").put("code", 403).put("reason", "Forbidden").put("message", message);
            LOG.info("refused {}/{}: {}", request.path("namespace").asText(), request.path("name").asText(),
                    message);
        });
        return answer;
    }

    private static Optional<String> jobRefusal(JsonNode sj) {
        try {
            ScaledJobParser.parse(sj);
            return Optional.empty();
        } catch (ScaledObjectInvalid e) {
            return Optional.of(e.getMessage());
        }
    }

    private Optional<String> refusal(JsonNode so, String namespace) throws ApiException {
        ObjectNode object = so.deepCopy();
        ((ObjectNode) object.with("metadata")).put("namespace", namespace);
        ScaledObjectSpec spec;
        try {
            spec = ScaledObjectParser.parse(object); // its target and HPA name as the controller reads them
        } catch (ScaledObjectInvalid e) {
            return Optional.of(e.getMessage());
        }
        String uid = object.path("metadata").path("uid").asText("");
        String kind = spec.target().kind();
        String target = spec.target().name();
        return AdmissionRules.refusal(spec, uid, otherScaledObjects(namespace, kind, target, spec.name()),
                hpas(namespace, kind, target, spec.hpaName(), uid), containers(namespace, kind, target),
                limitRangeDefaults(namespace));
    }

    private List<TargetClaims.OtherScaledObject> otherScaledObjects(String namespace, String kind, String target, String name)
            throws ApiException {
        Object list = new CustomObjectsApi(client).listNamespacedCustomObject(KedaKeys.GROUP, KedaKeys.VERSION, namespace,
                KedaKeys.SCALED_OBJECTS).execute();
        List<TargetClaims.OtherScaledObject> others = new ArrayList<>();
        for (JsonNode item : JSON.valueToTree(list).path("items")) {
            JsonNode ref = item.path("spec").path("scaleTargetRef");
            String itemName = item.path("metadata").path("name").asText();
            if (!itemName.equals(name) && ref.path("kind").asText("Deployment").equals(kind)
                    && ref.path("name").asText().equals(target) && !item.path("metadata").hasNonNull("deletionTimestamp")) {
                String created = item.path("metadata").path("creationTimestamp").asText("");
                others.add(new TargetClaims.OtherScaledObject(itemName,
                        created.isEmpty() ? Instant.EPOCH : OffsetDateTime.parse(created).toInstant()));
            }
        }
        return others;
    }

    private List<TargetClaims.SeenHpa> hpas(String namespace, String kind, String target, String hpaName, String uid)
            throws ApiException {
        List<TargetClaims.SeenHpa> seen = new ArrayList<>();
        for (V2HorizontalPodAutoscaler hpa : new AutoscalingV2Api(client).listNamespacedHorizontalPodAutoscaler(namespace)
                .execute().getItems()) {
            TargetClaims.SeenHpa s = ClusterCaches.seen(hpa);
            if ((s.targetKind().equals(kind) && s.targetName().equals(target)) || s.name().equals(hpaName)
                    || (!uid.isEmpty() && uid.equals(s.ownerUid()))) {
                seen.add(s);
            }
        }
        return seen;
    }

    /** The target's containers and what they request; none for kinds other than Deployment and StatefulSet. */
    private List<AdmissionRules.Container> containers(String namespace, String kind, String target) throws ApiException {
        V1PodTemplateSpec template = null;
        try {
            if (kind.equals("Deployment")) {
                template = new AppsV1Api(client).readNamespacedDeployment(target, namespace).execute().getSpec().getTemplate();
            } else if (kind.equals("StatefulSet")) {
                template = new AppsV1Api(client).readNamespacedStatefulSet(target, namespace).execute().getSpec().getTemplate();
            }
        } catch (ApiException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        }
        List<AdmissionRules.Container> containers = new ArrayList<>();
        if (template == null || template.getSpec() == null) {
            return containers;
        }
        for (V1Container c : template.getSpec().getContainers()) {
            Set<String> requests = c.getResources() == null || c.getResources().getRequests() == null ? Set.of()
                    : c.getResources().getRequests().keySet();
            containers.add(new AdmissionRules.Container(c.getName(), requests));
        }
        return containers;
    }

    /** The resources a LimitRange in the namespace gives every container a default request (or limit) for. */
    private Set<String> limitRangeDefaults(String namespace) throws ApiException {
        Set<String> defaults = new HashSet<>();
        for (V1LimitRange range : new CoreV1Api(client).listNamespacedLimitRange(namespace).execute().getItems()) {
            if (range.getSpec() == null) {
                continue;
            }
            for (V1LimitRangeItem item : range.getSpec().getLimits()) {
                if ("Container".equals(item.getType())) {
                    for (Map<String, ?> values : java.util.Arrays.asList(item.getDefaultRequest(), item.getDefault())) {
                        if (values != null) {
                            defaults.addAll(values.keySet());
                        }
                    }
                }
            }
        }
        return defaults;
    }

    private static PemKeyCertOptions keyCert(Path certificate, Path key) throws java.io.IOException {
        return new PemKeyCertOptions().addCertValue(io.vertx.core.buffer.Buffer.buffer(Files.readString(certificate)))
                .addKeyValue(io.vertx.core.buffer.Buffer.buffer(Files.readString(key)));
    }

    @Override
    public void close() {
        vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
}
