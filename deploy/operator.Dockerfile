# The operator image: the scaler module's classes and its runtime class path, nothing else (no test kit, no Kafka
# broker; the cli module's DeployTest lists what is copied and fails on either). Build from the repo root:
#   docker build -f deploy/operator.Dockerfile -t lagscaler/operator:0.1.0 .
# The bases are build arguments: BUILD_IMAGE needs a JDK 17, RUNTIME_IMAGE a JRE 17 and useradd. Where no registry
# is reachable, dev/images.sh builds this same file with buildah on Debian bases it makes itself.
ARG BUILD_IMAGE=eclipse-temurin:17-jdk
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests -pl scaler -am package

FROM ${RUNTIME_IMAGE}
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin lagscaler
COPY --from=build /src/scaler/target/classes /app/classes
COPY --from=build /src/scaler/target/lib /app/lib
USER 10001:10001
# The chart sets its own JAVA_TOOL_OPTIONS (values: operator.javaOptions, adapter.javaOptions).
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "-cp", "/app/classes:/app/lib/*", "dev.lagscaler.controller.OperatorCommand"]
