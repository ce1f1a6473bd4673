using System.Text;
using System.Text.Json;

namespace Flare.Web.Gateway;

/// <summary>
/// Every error on <c>/v1</c>, Flare's own or relayed, in OpenAI's shape:
/// <c>{"error":{"message","type","param","code"}}</c>, so OpenAI SDKs raise the right exception.
/// </summary>
public static class OpenAIError
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string RateLimit = "rate_limit_error";
    public const string NotFound = "not_found_error";
    public const string Unavailable = "service_unavailable_error";
    public const string Upstream = "upstream_error";
    public const string Server = "server_error";

    public static byte[] Json(string message, string type, string? param = null, string? code = null)
    {
        using var buffer = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", message);
            w.WriteString("type", type);
            if (param is null) { w.WriteNull("param"); } else { w.WriteString("param", param); }
            if (code is null) { w.WriteNull("code"); } else { w.WriteString("code", code); }
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The same error as one SSE event, for a stream that already started.</summary>
    public static byte[] SseEvent(string message, string type, string? code) =>
        [.. "data: "u8, .. Json(message, type, null, code), .. "\n\n"u8];

    public static Task WriteAsync(HttpContext http, int status, string message, string type, string? param = null, string? code = null)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.Body.WriteAsync(Json(message, type, param, code)).AsTask();
    }

    /// <summary>True when <paramref name="body"/> already is an OpenAI-shaped error object.</summary>
    public static bool IsOpenAIShaped(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("error", out var e)
                && e.ValueKind == JsonValueKind.Object
                && e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Wraps a non-OpenAI error body from a backend, keeping a bounded excerpt of what it said.</summary>
    public static byte[] WrapUpstream(int status, ReadOnlySpan<byte> body, string deployment)
    {
        var text = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        var message = $"Deployment '{deployment}' answered {status}" + (text.Length > 0 ? $": {text}" : ".");
        var type = status switch { 429 => RateLimit, >= 500 => Upstream, 404 => NotFound, 401 or 403 => Authentication, _ => InvalidRequest };
        return Json(message, type, null, $"upstream_{status}");
    }
}
