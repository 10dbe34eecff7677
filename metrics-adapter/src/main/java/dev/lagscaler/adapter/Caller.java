package dev.lagscaler.adapter;

import java.util.List;

/** Who is asking: a user and groups, as the aggregator's front proxy or a TokenReview said. */
public record Caller(String user, List<String> groups) {
    public Caller {
        groups = List.copyOf(groups);
    }
}
