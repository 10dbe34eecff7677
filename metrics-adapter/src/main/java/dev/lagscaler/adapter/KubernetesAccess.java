package dev.lagscaler.adapter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AuthenticationV1Api;
import io.kubernetes.client.openapi.apis.AuthorizationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1NonResourceAttributes;
import io.kubernetes.client.openapi.models.V1ResourceAttributes;
import io.kubernetes.client.openapi.models.V1SubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewSpec;
import io.kubernetes.client.openapi.models.V1TokenReview;
import io.kubernetes.client.openapi.models.V1TokenReviewSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an aggregated API server asks the apiserver: the front proxy's CA and allowed names, TokenReviews for bearer
 * tokens and SubjectAccessReviews for every request. Reviews are cached for a few seconds. Blocking: call it off the
 * event loop.
 */
public final class KubernetesAccess {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CACHE = Duration.ofSeconds(5);

    /** The requestheader settings from kube-system/extension-apiserver-authentication. */
    public record FrontProxy(String caPem, List<String> allowedNames) {
        public FrontProxy {
            allowedNames = List.copyOf(allowedNames);
        }
    }

    private record Cached<T>(T value, Instant until) {
    }

    private final ApiClient client;
    private final Map<String, Cached<Caller>> tokens = new ConcurrentHashMap<>();
    private final Map<ReviewKey, Cached<Boolean>> reviews = new ConcurrentHashMap<>();

    public KubernetesAccess(ApiClient client) {
        this.client = client;
    }

    public FrontProxy frontProxy() throws ApiException {
        V1ConfigMap map = new CoreV1Api(client).readNamespacedConfigMap("extension-apiserver-authentication", "kube-system").execute();
        Map<String, String> data = map.getData() == null ? Map.of() : map.getData();
        String ca = data.get("requestheader-client-ca-file");
        if (ca == null) {
            throw new ApiException("kube-system/extension-apiserver-authentication has no requestheader-client-ca-file:"
                    + " the apiserver runs without the aggregation layer");
        }
        // A JSON array of common names; empty means any name the front proxy's CA signed.
        List<String> allowed = new java.util.ArrayList<>();
        try {
            for (JsonNode name : JSON.readTree(data.getOrDefault("requestheader-allowed-names", "[]"))) {
                if (!name.asText().isEmpty()) {
                    allowed.add(name.asText());
                }
            }
        } catch (JsonProcessingException e) {
            throw new ApiException("kube-system/extension-apiserver-authentication: requestheader-allowed-names is not a JSON array");
        }
        return new FrontProxy(ca, allowed);
    }

    /** A cached TokenReview answer: empty when not cached, else the caller (null inside: not authenticated). */
    public java.util.Optional<java.util.Optional<Caller>> cachedReview(String token) {
        Cached<Caller> hit = tokens.get(token);
        return hit != null && hit.until().isAfter(Instant.now())
                ? java.util.Optional.of(java.util.Optional.ofNullable(hit.value())) : java.util.Optional.empty();
    }

    /**
     * A cached SubjectAccessReview answer, or null when not cached. An answer up to one more cache period old is
     * still returned while {@code refresher} renews it in the background (once per key), so requests never queue
     * behind the apiserver after the first one.
     */
    public Boolean cachedAllowed(Caller caller, String namespace, String metric, String path,
                                 java.util.function.Consumer<Runnable> refresher) {
        if (metric != null && !ANY.equals(metric) && Boolean.TRUE.equals(cachedAllowed(caller, ANY, ANY, null, refresher))) {
            return true; // may read every external metric: no review per metric
        }
        ReviewKey key = ReviewKey.of(caller, namespace, metric, path);
        Cached<Boolean> hit = reviews.get(key);
        Instant now = Instant.now();
        if (hit == null || hit.until().plus(CACHE).isBefore(now)) {
            return null;
        }
        if (hit.until().isBefore(now) && refreshing.add(key)) {
            refresher.accept(() -> {
                try {
                    allowed(caller, namespace, metric, path);
                } catch (ApiException e) {
                    reviews.remove(key);
                } finally {
                    refreshing.remove(key);
                }
            });
        }
        return hit.value();
    }

    private final java.util.Set<ReviewKey> refreshing = ConcurrentHashMap.newKeySet();

    /** Random tokens or paths must not grow the caches without bound: past a size, expired entries go. */
    private static <K, T> void evictExpired(Map<K, Cached<T>> cache) {
        if (cache.size() > MAX_CACHED) {
            Instant stale = Instant.now().minus(CACHE);
            cache.values().removeIf(c -> c.until().isBefore(stale));
        }
    }

    private static final int MAX_CACHED = 100_000;
    /** Stands for "every namespace" and "every metric" in a review and its cache key. */
    private static final String ANY = "*";

    /**
     * What a review answered for. A record, not a string: the request path builds no string per lookup (a record's
     * toString goes through String.format, which a profile of the adapter under load ranked first of its own frames).
     */
    private record ReviewKey(Caller caller, String namespace, String metric, String path) {
        static ReviewKey of(Caller caller, String namespace, String metric, String path) {
            return new ReviewKey(caller, namespace, metric, metric == null ? path : "");
        }
    }

    /** The caller a bearer token belongs to, or null when the apiserver does not authenticate it. */
    public Caller review(String token) throws ApiException {
        Cached<Caller> hit = tokens.get(token);
        if (hit != null && hit.until().isAfter(Instant.now())) {
            return hit.value();
        }
        V1TokenReview review = new AuthenticationV1Api(client).createTokenReview(
                new V1TokenReview().spec(new V1TokenReviewSpec().token(token))).execute();
        Caller caller = null;
        if (review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAuthenticated())
                && review.getStatus().getUser() != null) {
            var user = review.getStatus().getUser();
            caller = new Caller(user.getUsername(), user.getGroups() == null ? List.of() : user.getGroups());
        }
        tokens.put(token, new Cached<>(caller, Instant.now().plus(CACHE)));
        evictExpired(tokens);
        return caller;
    }

    /**
     * Whether the caller may GET the metric (resource) or the path (discovery, OpenAPI). A caller that may read every
     * external metric in every namespace (the HPA controller's bootstrap role does) is answered by one review for
     * all of them; any other caller is reviewed per metric, so serving 10,000 metrics does not mean 10,000 reviews.
     */
    public boolean allowed(Caller caller, String namespace, String metric, String path) throws ApiException {
        if (metric != null && !ANY.equals(metric) && allowed(caller, ANY, ANY, null)) {
            return true;
        }
        ReviewKey key = ReviewKey.of(caller, namespace, metric, path);
        Cached<Boolean> hit = reviews.get(key);
        if (hit != null && hit.until().isAfter(Instant.now())) {
            return hit.value();
        }
        V1SubjectAccessReviewSpec spec = new V1SubjectAccessReviewSpec().user(caller.user()).groups(caller.groups());
        if (ANY.equals(metric)) {
            // Every metric of the group in every namespace: resource "*", no namespace.
            spec.resourceAttributes(new V1ResourceAttributes().group("external.metrics.k8s.io").version("v1beta1")
                    .resource("*").verb("get"));
        } else if (metric != null) {
            spec.resourceAttributes(new V1ResourceAttributes().group("external.metrics.k8s.io").version("v1beta1")
                    .resource(metric).namespace(namespace).verb("get"));
        } else {
            spec.nonResourceAttributes(new V1NonResourceAttributes().path(path).verb("get"));
        }
        V1SubjectAccessReview review = new AuthorizationV1Api(client).createSubjectAccessReview(
                new V1SubjectAccessReview().spec(spec)).execute();
        boolean allowed = review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAllowed());
        // A little jitter keeps a thousand entries from expiring in the same instant.
        reviews.put(key, new Cached<>(allowed, Instant.now().plus(CACHE)
                .plusMillis(java.util.concurrent.ThreadLocalRandom.current().nextLong(1000))));
        evictExpired(reviews);
        return allowed;
    }
}
