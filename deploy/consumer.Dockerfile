# The demo's consumer image: a rate-limited Kafka consumer (the consumer module, kafka-clients and a logger), the pods
# a ScaledObject scales in `lagscaler demo --node` and the node test. Configured by KAFKA_BOOTSTRAP, KAFKA_GROUP,
# KAFKA_TOPIC and RECORDS_PER_SECOND. Build from the repo root:
#   docker build -f deploy/consumer.Dockerfile -t lagscaler/demo-consumer:0.1.0 .
ARG BUILD_IMAGE=eclipse-temurin:17-jdk
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests -pl consumer -am package

FROM ${RUNTIME_IMAGE}
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin lagscaler
COPY --from=build /src/consumer/target/classes /app/classes
COPY --from=build /src/consumer/target/lib /app/lib
USER 10001:10001
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
ENTRYPOINT ["java", "-cp", "/app/classes:/app/lib/*", "dev.lagscaler.consumer.ConsumerMain"]
