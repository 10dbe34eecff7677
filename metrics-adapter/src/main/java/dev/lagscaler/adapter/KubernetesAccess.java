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

    /**
     * The requestheader settings from kube-system/extension-apiserver-authentication: the front proxy's CA, the
     * names its certificate may carry, and the headers it names the user, groups and extra attributes in.
     */
    public record FrontProxy(String caPem, List<String> allowedNames, List<String> usernameHeaders,
                             List<String> groupHeaders, List<String> extraHeaderPrefixes) {
        public FrontProxy {
            allowedNames = List.copyOf(allowedNames);
            usernameHeaders = List.copyOf(usernameHeaders);
            groupHeaders = List.copyOf(groupHeaders);
            extraHeaderPrefixes = List.copyOf(extraHeaderPrefixes);
        }

        /** From the ConfigMap's data; the header lists default to the apiserver's own defaults when absent. */
        public static FrontProxy of(Map<String, String> data) throws ApiException {
            String ca = data.get("requestheader-client-ca-file");
            if (ca == null) {
                throw new ApiException("kube-system/extension-apiserver-authentication has no requestheader-client-ca-file:"
                        + " the apiserver runs without the aggregation layer");
            }
            return new FrontProxy(ca, names(data, "requestheader-allowed-names", List.of()),
                    names(data, "requestheader-username-headers", List.of("X-Remote-User")),
                    names(data, "requestheader-group-headers", List.of("X-Remote-Group")),
                    names(data, "requestheader-extra-headers-prefix", List.of("X-Remote-Extra-")));
        }

        /** A JSON array of strings in the ConfigMap ({@code fallback} when the key is absent); empty strings dropped. */
        private static List<String> names(Map<String, String> data, String key, List<String> fallback) throws ApiException {
            String value = data.get(key);
            if (value == null) {
                return fallback;
            }
            List<String> names = new java.util.ArrayList<>();
            try {
                for (JsonNode name : JSON.readTree(value)) {
                    if (!name.asText().isEmpty()) {
                        names.add(name.asText());
                    }
                }
            } catch (JsonProcessingException e) {
                throw new ApiException("kube-system/extension-apiserver-authentication: " + key + " is not a JSON array");
            }
            return names;
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
        return FrontProxy.of(map.getData() == null ? Map.of() : map.getData());
    }

    /** More TokenReviews of uncached tokens than the apiserver should take from one adapter now. */
    public static final class TooManyReviews extends RuntimeException {
        TooManyReviews() {
            super("too many unknown bearer tokens: TokenReviews are limited to " + REVIEWS_PER_SECOND + " a second");
        }
    }

    /** TokenReviews of tokens not in the cache, a second, with a burst of twice that. */
    static final int REVIEWS_PER_SECOND = 20;
    private final Object budgetLock = new Object();
    private double budget = 2 * REVIEWS_PER_SECOND;
    private long budgetAt = System.nanoTime();

    /** Takes one TokenReview from the budget (refilled at REVIEWS_PER_SECOND), or says none is left. */
    private boolean takeReview() {
        synchronized (budgetLock) {
            long now = System.nanoTime();
            budget = Math.min(2 * REVIEWS_PER_SECOND, budget + (now - budgetAt) / 1e9 * REVIEWS_PER_SECOND);
            budgetAt = now;
            if (budget < 1) {
                return false;
            }
            budget--;
            return true;
        }
    }

    /** The cache holds a digest of each token, never the token: a heap dump gives no credential away. */
    private static String digest(String token) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A cached TokenReview answer: empty when not cached, else the caller (null inside: not authenticated). */
    public java.util.Optional<java.util.Optional<Caller>> cachedReview(String token) {
        Cached<Caller> hit = tokens.get(digest(token));
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

    /**
     * The caller a bearer token belongs to, or null when the apiserver does not authenticate it. A refusal is cached
     * like an answer; a flood of new tokens is bounded to {@link #REVIEWS_PER_SECOND} reviews a second, past which
     * {@link TooManyReviews} is thrown without asking the apiserver.
     */
    public Caller review(String token) throws ApiException {
        String key = digest(token);
        Cached<Caller> hit = tokens.get(key);
        if (hit != null && hit.until().isAfter(Instant.now())) {
            return hit.value();
        }
        if (!takeReview()) {
            throw new TooManyReviews();
        }
        V1TokenReview review = new AuthenticationV1Api(client).createTokenReview(
                new V1TokenReview().spec(new V1TokenReviewSpec().token(token))).execute();
        Caller caller = null;
        if (review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAuthenticated())
                && review.getStatus().getUser() != null) {
            var user = review.getStatus().getUser();
            caller = new Caller(user.getUsername(), user.getGroups() == null ? List.of() : user.getGroups(),
                    user.getExtra() == null ? Map.of() : user.getExtra());
        }
        tokens.put(key, new Cached<>(caller, Instant.now().plus(CACHE)));
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
        if (!caller.extra().isEmpty()) {
            spec.extra(caller.extra());
        }
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
