package dev.lagscaler.controller;

import java.io.IOException;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ByteString;
import okio.Okio;
import okio.Source;
import okio.Timeout;

/**
 * The apiserver's server-side sharding (ShardedListAndWatch, alpha in Kubernetes 1.36) for the informers of one
 * sharded operator replica: the lists and watches of ScaledObjects and ScaledJobs across namespaces get this replica's
 * {@code shardSelector} (by uid), which client-java 25 does not know. The apiserver then sends only this replica's
 * share of them and their events. A typed list answer echoes the selector in {@code metadata.shardInfo}, a field
 * client-java's strict models refuse; a custom resource's list does not echo it (1.36.3), so the presence of
 * shardInfo on a typed list is how {@link #probe} learns that the apiserver filters, and it is taken out of any
 * answer before the models read it.
 */
final class ShardedWatches implements Interceptor {
    /** The informers' collections across namespaces of the kinds a replica caches only its share of. */
    private static final Pattern SHARDED = Pattern.compile("^/apis/keda\\.sh/v1alpha1/(scaledobjects|scaledjobs)$");
    private static final ByteString ITEMS = ByteString.encodeUtf8("\"items\"");
    private static final long HEAD_LIMIT = 64 * 1024;

    private volatile String selector;

    /** This replica's share from now on (null: every object, no selector); takes effect at the informers' next list. */
    void select(String shardSelector) {
        this.selector = shardSelector;
    }

    String selector() {
        return selector;
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
        Request request = chain.request();
        String current = selector;
        if (current == null || !request.method().equals("GET") || !SHARDED.matcher(request.url().encodedPath()).matches()) {
            return chain.proceed(request);
        }
        HttpUrl url = request.url().newBuilder().addQueryParameter("shardSelector", current).build();
        Response response = chain.proceed(request.newBuilder().url(url).build());
        if ("true".equals(url.queryParameter("watch")) || response.body() == null || !response.isSuccessful()) {
            return response;
        }
        return response.newBuilder().body(withoutShardInfo(response.body())).build();
    }

    /** The list answer with {@code metadata.shardInfo} taken out of its head (metadata comes before the items). */
    static ResponseBody withoutShardInfo(ResponseBody body) throws IOException {
        BufferedSource source = body.source();
        long items = source.indexOf(ITEMS, 0, HEAD_LIMIT);
        if (items < 0) {
            return body;
        }
        Buffer head = new Buffer();
        source.readFully(head, items);
        Buffer rewritten = new Buffer().writeUtf8(removeShardInfo(head.readUtf8()));
        Source rest = new Source() {
            @Override
            public long read(Buffer sink, long byteCount) throws IOException {
                if (rewritten.size() > 0) {
                    return rewritten.read(sink, Math.min(byteCount, rewritten.size()));
                }
                return source.read(sink, byteCount);
            }

            @Override
            public Timeout timeout() {
                return source.timeout();
            }

            @Override
            public void close() throws IOException {
                source.close();
            }
        };
        return ResponseBody.create(Okio.buffer(rest), body.contentType(), -1);
    }

    /** {@code head} (JSON) without its {@code "shardInfo":{...}} member and the comma that joined it. */
    static String removeShardInfo(String head) {
        int at = head.indexOf("\"shardInfo\":");
        int open = at < 0 ? -1 : head.indexOf('{', at);
        if (open < 0) {
            return head;
        }
        int depth = 0;
        boolean inString = false;
        int i = open;
        for (; i < head.length(); i++) {
            char ch = head.charAt(i);
            if (inString) {
                if (ch == '\\') {
                    i++;
                } else if (ch == '"') {
                    inString = false;
                }
            } else if (ch == '"') {
                inString = true;
            } else if (ch == '{') {
                depth++;
            } else if (ch == '}' && --depth == 0) {
                break;
            }
        }
        int start = at;
        int end = Math.min(i + 1, head.length());
        if (start > 0 && head.charAt(start - 1) == ',') {
            start--;
        } else if (end < head.length() && head.charAt(end) == ',') {
            end++;
        }
        return head.substring(0, start) + head.substring(end);
    }

    /**
     * Whether the apiserver filters by shard: a list of Leases in {@code namespace} with a selector covering every
     * object, answered with {@code metadata.shardInfo}. False (the caller then filters on its side) when the gate is
     * off, on an older apiserver, or on any error.
     */
    static boolean probe(okhttp3.OkHttpClient http, String basePath, String namespace) {
        HttpUrl url = HttpUrl.get(basePath + "/apis/coordination.k8s.io/v1/namespaces/" + namespace + "/leases")
                .newBuilder().addQueryParameter("limit", "1").addQueryParameter("shardSelector",
                        "shardRange(object.metadata.uid, '0x0000000000000000', '0x10000000000000000')").build();
        try (Response response = http.newCall(new Request.Builder().url(url).get().build()).execute()) {
            return response.isSuccessful() && response.body() != null && response.body().string().contains("\"shardInfo\"");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
