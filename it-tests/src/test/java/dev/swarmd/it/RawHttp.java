package dev.swarmd.it;

import com.github.dockerjava.transport.DockerHttpClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raw Engine-API requests, bypassing the CLI's own validation: java.net.http against {@code http://127.0.0.N:2375}.
 * In reference mode (Docker's own swarm on the unix socket) the same requests go through docker-java's transport.
 */
public final class RawHttp {
    /** A reply: status, headers (lower-case names), body. */
    public record Response(int status, Map<String, List<String>> headers, String body) {
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase());
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        public String contentType() {
            return header("content-type");
        }

        @Override
        public String toString() {
            return status + " " + headers + "\n" + body;
        }
    }

    private final String baseUrl;
    private final DockerHttpClient unixClient;
    private final HttpClient http;

    private RawHttp(String baseUrl, DockerHttpClient unixClient) {
        this.baseUrl = baseUrl;
        this.unixClient = unixClient;
        this.http = unixClient == null ? HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build() : null;
    }

    public static RawHttp tcp(String address, int port) {
        return new RawHttp("http://" + address + ":" + port, null);
    }

    public static RawHttp engine(Engine engine) {
        return new RawHttp(null, engine.http());
    }

    public Response get(String path) {
        return send("GET", path, null);
    }

    /** POST with a body sent as {@code Content-Type: application/json}, as the CLI does. */
    public Response postJson(String path, String json) {
        return send("POST", path, json);
    }

    public Response delete(String path) {
        return send("DELETE", path, null);
    }

    public Response send(String method, String path, String jsonBody) {
        if (unixClient != null) {
            return viaDockerJava(method, path, jsonBody);
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30));
        if (jsonBody != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            Map<String, List<String>> headers = new TreeMap<>();
            r.headers().map().forEach((k, v) -> headers.put(k.toLowerCase(), v));
            return new Response(r.statusCode(), headers, r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Response viaDockerJava(String method, String path, String jsonBody) {
        DockerHttpClient.Request.Builder b = DockerHttpClient.Request.builder()
                .method(DockerHttpClient.Request.Method.valueOf(method))
                .path(path);
        if (jsonBody != null) {
            b.putHeader("Content-Type", "application/json");
            b.body(new ByteArrayInputStream(jsonBody.getBytes(StandardCharsets.UTF_8)));
        }
        try (DockerHttpClient.Response r = unixClient.execute(b.build()); InputStream in = r.getBody()) {
            Map<String, List<String>> headers = new TreeMap<>();
            r.getHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v));
            String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Response(r.getStatusCode(), headers, body);
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        }
    }
}
