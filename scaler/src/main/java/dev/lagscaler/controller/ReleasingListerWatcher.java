package dev.lagscaler.controller;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Watchable;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesListObject;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import io.kubernetes.client.util.generic.options.ListOptions;
import java.util.List;
import okhttp3.Call;

/**
 * An informer's list and watch that lets go of each list once it is in the informer's queue. client-java's reflector
 * holds the list it read in a local variable of the loop that then watches for as long as the informer runs, and an
 * interpreted frame keeps a dead local reachable: every object of the first list stayed in memory after the watch
 * replaced it with a newer version (a class histogram of a replica holding 10,000 ScaledObjects had 20,000 of them,
 * each a JSON tree). The reflector hands the list's items to its queue before it starts the watch, so the watch's
 * start empties the list it came from; the cache and the queue hold the objects themselves.
 */
final class ReleasingListerWatcher<T extends KubernetesObject, L extends KubernetesListObject> implements ListerWatcher<T, L> {
    private interface Lister<L> {
        L list(CallGeneratorParams params) throws ApiException;
    }

    private interface Watcher<T> {
        Watchable<T> watch(CallGeneratorParams params) throws ApiException;
    }

    private final Lister<L> lister;
    private final Watcher<T> watcher;
    private volatile L last;

    private ReleasingListerWatcher(Lister<L> lister, Watcher<T> watcher) {
        this.lister = lister;
        this.watcher = watcher;
    }

    /** Objects per list request of a typed kind. */
    static final int PAGE = 500;

    /** A typed kind's list or watch call: client-java's call generator, with a page size and continue token for lists. */
    interface PagedCalls {
        Call generate(CallGeneratorParams params, Integer limit, String continueToken) throws ApiException;
    }

    /**
     * A typed kind, listed {@link #PAGE} objects a request, each page passed through {@code slim} (the informer's own
     * transform, in place) as it arrives, and watched through {@code calls}. Whole, a first list of 10,000 Deployments
     * and 10,000 HPAs held every pod template, status and managedFields at once before the informer slimmed any:
     * three replicas starting together on a cluster with those ran out of a 400 MB heap in seconds. A first list at
     * resourceVersion "0" (the reflector's, served whole from the watch cache) is read from etcd instead, where pages
     * are honoured.
     */
    static <T extends KubernetesObject, L extends KubernetesListObject> ReleasingListerWatcher<T, L> typed(
            ApiClient client, PagedCalls calls, Class<T> type, Class<L> listType,
            java.util.function.UnaryOperator<KubernetesObject> slim) {
        return typed(client, calls, type, listType, slim, PAGE);
    }

    @SuppressWarnings("unchecked")
    static <T extends KubernetesObject, L extends KubernetesListObject> ReleasingListerWatcher<T, L> typed(
            ApiClient client, PagedCalls calls, Class<T> type, Class<L> listType,
            java.util.function.UnaryOperator<KubernetesObject> slim, int pageSize) {
        if (client.getReadTimeout() > 0) {
            client.setReadTimeout(0); // a watch waits for minutes (client-java's factory does the same)
        }
        return new ReleasingListerWatcher<>(params -> {
            L all = null;
            String next = null;
            do {
                String version = next != null || "0".equals(params.resourceVersion) ? null : params.resourceVersion;
                L page = (L) client.execute(calls.generate(new CallGeneratorParams(Boolean.FALSE, version, null), pageSize,
                        next), listType).getData();
                List<KubernetesObject> items = (List<KubernetesObject>) page.getItems();
                if (items != null) {
                    items.replaceAll(slim);
                }
                if (all == null) {
                    all = page;
                } else if (items != null) {
                    ((List<KubernetesObject>) all.getItems()).addAll(items);
                }
                next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
                next = next == null || next.isEmpty() ? null : next;
            } while (next != null);
            if (all.getMetadata() != null) {
                all.getMetadata().setContinue(null);
            }
            return all;
        }, params -> {
            Call call = client.getHttpClient().newCall(calls.generate(params, null, null).request());
            return Watch.createWatch(client, call, TypeToken.getParameterized(Watch.Response.class, type).getType());
        });
    }

    /**
     * A custom resource across all namespaces. Its list makes new wrappers on every {@code getItems()} over one JSON
     * tree, and the reflector keeps both the list and the wrappers it took: the list returned here makes them once, so
     * the ones it keeps are the ones emptied, and the tree's items go with them.
     */
    static ReleasingListerWatcher<DynamicKubernetesObject, DynamicKubernetesListObject> dynamic(DynamicKubernetesApi api) {
        return new ReleasingListerWatcher<>(params -> new ItemsOnce(api.list(options(params)).throwsApiException()
                .getObject().getRaw()), params -> api.watch(options(params)));
    }

    private static final class ItemsOnce extends DynamicKubernetesListObject {
        private List<DynamicKubernetesObject> items;

        ItemsOnce(JsonObject raw) {
            super(raw);
        }

        @Override
        public synchronized List<DynamicKubernetesObject> getItems() {
            if (items == null) {
                items = super.getItems();
            }
            return items;
        }

        synchronized void release() {
            getItems().clear();
            getRaw().add("items", new JsonArray());
        }
    }

    private static ListOptions options(CallGeneratorParams params) {
        ListOptions options = new ListOptions();
        options.setResourceVersion(params.resourceVersion);
        options.setTimeoutSeconds(params.timeoutSeconds);
        return options;
    }

    @Override
    public L list(CallGeneratorParams params) throws ApiException {
        L list = lister.list(params);
        last = list;
        return list;
    }

    @Override
    public Watchable<T> watch(CallGeneratorParams params) throws ApiException {
        L list = last;
        last = null;
        if (list instanceof ItemsOnce dynamicList) {
            dynamicList.release();
        } else if (list != null && list.getItems() != null) {
            list.getItems().clear();
        }
        return watcher.watch(params);
    }
}
