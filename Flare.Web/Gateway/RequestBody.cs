using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Flare.Web.Gateway;

/// <summary>A validated <c>/v1</c> request body: what routing needs from it, and how to rewrite it per deployment.</summary>
internal sealed class RequestBody : IDisposable
{
    private readonly JsonDocument _doc;

    private RequestBody(JsonDocument doc, string model, bool stream)
    {
        _doc = doc;
        Model = model;
        Stream = stream;
    }

    public string Model { get; }
    public bool Stream { get; }
    public int Length { get; private init; }

    /// <summary>True when a streaming client asked for the usage chunk itself (<c>stream_options.include_usage</c>); when it
    /// did not, Flare asks for it anyway, reads it and keeps it from the client.</summary>
    public bool ClientWantsUsage =>
        _doc.RootElement.TryGetProperty("stream_options", out var o) && o.ValueKind == JsonValueKind.Object
        && o.TryGetProperty("include_usage", out var u) && u.ValueKind == JsonValueKind.True;

    /// <summary>An OpenAI error for a body that cannot be served: (message, param).</summary>
    public readonly record struct Problem(string Message, string? Param);

    /// <summary>Parses and checks the fields Flare relies on; the backend judges the rest.</summary>
    public static RequestBody? Parse(ReadOnlyMemory<byte> body, V1Endpoint endpoint, out Problem problem)
    {
        problem = default;
        if (body.IsEmpty)
        {
            problem = new("The request body is empty; send a JSON object.", null);
            return null;
        }

        // JsonDocument checks UTF-8 only in the strings it is asked to read; reject the whole body up front.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            problem = new("The request body is not valid UTF-8.", null);
            return null;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            problem = new($"The request body is not valid JSON: {ex.Message}", null);
            return null;
        }

        var root = doc.RootElement;
        string? error = null;
        string? param = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            (error, param) = ("The request body must be a JSON object.", null);
        }
        else if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 })
        {
            (error, param) = ("'model' is required and must be a non-empty string.", "model");
        }
        else if (root.TryGetProperty("stream", out var s) && s.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
        {
            (error, param) = ("'stream' must be a boolean.", "stream");
        }
        else if (endpoint == V1Endpoint.ChatCompletions
            && (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0))
        {
            (error, param) = ("'messages' is required and must be a non-empty array.", "messages");
        }
        else if (endpoint == V1Endpoint.ChatCompletions && root.GetProperty("messages").EnumerateArray().Any(m => m.ValueKind != JsonValueKind.Object))
        {
            (error, param) = ("Each item of 'messages' must be an object with 'role' and 'content'.", "messages");
        }
        else if (endpoint == V1Endpoint.Completions
            && (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind is not (JsonValueKind.String or JsonValueKind.Array)))
        {
            (error, param) = ("'prompt' is required and must be a string or an array.", "prompt");
        }
        else if ((BadTokenLimit(root, "max_tokens") ?? BadTokenLimit(root, "max_completion_tokens")) is { } bad)
        {
            (error, param) = ($"'{bad}' must be a positive integer.", bad);
        }

        if (error is not null)
        {
            doc.Dispose();
            problem = new(error, param);
            return null;
        }

        var isStream = root.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        return new RequestBody(doc, root.GetProperty("model").GetString()!, isStream) { Length = body.Length };
    }

    private static string? BadTokenLimit(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null && (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < 1) ? name : null;

    /// <summary>
    /// The body for one deployment: <c>model</c> set to its served name and, for streams, usage asked
    /// for (<c>stream_options.include_usage</c>) so that tokens and cost can be logged.
    /// </summary>
    public byte[] RewriteFor(string servedModelName)
    {
        var buffer = new ArrayBufferWriter<byte>(Length + 64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            var wroteStreamOptions = false;
            foreach (var p in _doc.RootElement.EnumerateObject())
            {
                if (p.NameEquals("model"))
                {
                    w.WriteString("model", servedModelName);
                }
                else if (Stream && p.NameEquals("stream_options") && p.Value.ValueKind == JsonValueKind.Object)
                {
                    w.WriteStartObject("stream_options");
                    foreach (var o in p.Value.EnumerateObject())
                    {
                        if (!o.NameEquals("include_usage"))
                        {
                            o.WriteTo(w);
                        }
                    }

                    w.WriteBoolean("include_usage", true);
                    w.WriteEndObject();
                    wroteStreamOptions = true;
                }
                else if (!(Stream && p.NameEquals("stream_options")))
                {
                    p.WriteTo(w);
                }
            }

            if (Stream && !wroteStreamOptions)
            {
                w.WriteStartObject("stream_options");
                w.WriteBoolean("include_usage", true);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The prompt text the estimator embeds: the chat messages' contents joined with newlines (text parts of multi-part
    /// contents only), or the completion prompt (the strings of an array prompt joined). Read only when a policy or the
    /// recent-prompt memory needs it: it allocates the text.
    /// </summary>
    public string PromptText()
    {
        var root = _doc.RootElement;
        var text = new StringBuilder();
        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                {
                    AppendText(text, content);
                }
            }
        }
        else if (root.TryGetProperty("prompt", out var prompt))
        {
            AppendText(text, prompt);
        }

        return text.ToString();
    }

    /// <summary>The request's cap on output tokens (<c>max_completion_tokens</c>, else <c>max_tokens</c>), or null.</summary>
    public int? MaxOutputTokens()
    {
        var root = _doc.RootElement;
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n))
            {
                return n;
            }
        }

        return null;
    }

    // A string, or an array of strings and {"type": "text", "text": …} parts; other parts (images, token ids) carry no text.
    private static void AppendText(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                if (text.Length > 0)
                {
                    text.Append('\n');
                }

                text.Append(value.GetString());
                break;
            case JsonValueKind.Array:
                foreach (var part in value.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String)
                    {
                        AppendText(text, part);
                    }
                    else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        AppendText(text, t);
                    }
                }

                break;
        }
    }

    public void Dispose() => _doc.Dispose();
}

/// <summary>The OpenAI endpoints Flare forwards.</summary>
public enum V1Endpoint
{
    ChatCompletions,
    Completions,
}
