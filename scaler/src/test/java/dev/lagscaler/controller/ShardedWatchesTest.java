package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import okhttp3.MediaType;
import okhttp3.ResponseBody;
import org.junit.jupiter.api.Test;

/** A sharded list answer, as the apiserver writes it, read by client-java's strict models once shardInfo is out. */
class ShardedWatchesTest {
    private static final String SELECTOR = "shardRange(object.metadata.namespace, '0x0000000000000000', '0x8000000000000000')"
            + " || shardRange(object.metadata.namespace, '0x9000000000000000', '0x10000000000000000')";

    @Test
    void aTypedListWithShardInfoReadsOnceItIsTakenOut() throws Exception {
        String answer = "{\"kind\":\"DeploymentList\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":\"42\","
                + "\"shardInfo\":{\"selector\":\"" + SELECTOR.replace("'", "\\u0027") + "\"}},\"items\":[{\"metadata\":"
                + "{\"name\":\"c-1\",\"namespace\":\"shop\"},\"spec\":{\"selector\":{},\"template\":{}}}]}";
        ResponseBody body = ShardedWatches.withoutShardInfo(ResponseBody.create(answer, MediaType.get("application/json")));
        V1DeploymentList list = new JSON().deserialize(body.string(), V1DeploymentList.class);
        assertEquals("42", list.getMetadata().getResourceVersion());
        assertEquals("c-1", list.getItems().get(0).getMetadata().getName());
    }

    @Test
    void theMemberGoesWithItsComma() {
        assertEquals("{\"a\":1}", ShardedWatches.removeShardInfo("{\"a\":1,\"shardInfo\":{\"selector\":\"x}\\\"y\"}}"));
        assertEquals("{\"a\":1}", ShardedWatches.removeShardInfo("{\"shardInfo\":{\"selector\":\"x\"},\"a\":1}"));
        assertEquals("{\"a\":1}", ShardedWatches.removeShardInfo("{\"a\":1}"));
    }
}
