using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flare.Emulator.Api;

/// <summary>Writes OpenAI-shaped JSON bodies and server-sent-event chunks straight into the response pipe.</summary>
internal sealed class OpenAIResponses(HttpContext context, CompletionRequest request, string id, long created)
{
    private readonly PipeWriter _pipe = context.Response.BodyWriter;
    private Utf8JsonWriter? _json;

    public static async Task WriteErrorAsync(HttpContext context, int status, string message, string type, string? param, string? code)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var pipe = context.Response.BodyWriter;
        await using (var json = new Utf8JsonWriter(pipe))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", message);
            json.WriteString("type", type);
            WriteNullable(json, "param", param);
            WriteNullable(json, "code", code);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        await pipe.FlushAsync(context.RequestAborted);
    }

    /// <summary>One SSE chunk carrying generated token <paramref name="index"/> (preceded, for chat, by the role chunk).</summary>
    public void WriteTokenChunk(int index)
    {
        if (index == 0 && request.Chat)
        {
            WriteChunk(json =>
            {
                json.WriteStartObject("delta");
                json.WriteString("role", "assistant");
                json.WriteString("content", "");
                json.WriteEndObject();
            }, null);
        }

        var text = EmulatorTokenizer.TokenText(index);
        WriteChunk(json =>
        {
            if (request.Chat)
            {
                json.WriteStartObject("delta");
                json.WriteString("content", text);
                json.WriteEndObject();
            }
            else
            {
                json.WriteString("text", text);
            }
        }, null);
    }

    /// <summary>The chunk with the finish reason, the usage chunk if asked for, and <c>data: [DONE]</c>.</summary>
    public void WriteStreamEnd(int completionTokens, string finishReason)
    {
        WriteChunk(json =>
        {
            if (request.Chat)
            {
                json.WriteStartObject("delta");
                json.WriteEndObject();
            }
            else
            {
                json.WriteString("text", "");
            }
        }, finishReason);

        if (request.IncludeUsage)
        {
            WriteEvent(json =>
            {
                WriteHeader(json, chunk: true);
                json.WriteStartArray("choices");
                json.WriteEndArray();
                WriteUsage(json, completionTokens);
                json.WriteEndObject();
            });
        }

        _pipe.Write("data: [DONE]\n\n"u8);
    }

    public ValueTask<FlushResult> FlushAsync(CancellationToken ct) => _pipe.FlushAsync(ct);

    /// <summary>The whole (non-streamed) completion.</summary>
    public async Task WriteCompletionAsync(int completionTokens, string finishReason, CancellationToken ct)
    {
        context.Response.ContentType = "application/json";
        var text = string.Concat(Enumerable.Range(0, completionTokens).Select(EmulatorTokenizer.TokenText));
        var json = Json();
        WriteHeader(json, chunk: false);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (request.Chat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", text);
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text);
        }

        json.WriteNull("logprobs");
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, completionTokens);
        json.WriteEndObject();
        json.Flush();
        await _pipe.FlushAsync(ct);
    }

    private void WriteChunk(Action<Utf8JsonWriter> choice, string? finishReason) => WriteEvent(json =>
    {
        WriteHeader(json, chunk: true);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        choice(json);
        json.WriteNull("logprobs");
        WriteNullable(json, "finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        if (request.IncludeUsage)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    });

    private void WriteEvent(Action<Utf8JsonWriter> body)
    {
        _pipe.Write("data: "u8);
        var json = Json();
        body(json);
        json.Flush();
        _pipe.Write("\n\n"u8);
    }

    private void WriteHeader(Utf8JsonWriter json, bool chunk)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", request.Chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
        json.WriteNumber("created", created);
        json.WriteString("model", request.Model);
    }

    private void WriteUsage(Utf8JsonWriter json, int completionTokens)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", request.PromptTokens);
        json.WriteNumber("completion_tokens", completionTokens);
        json.WriteNumber("total_tokens", request.PromptTokens + completionTokens);
        json.WriteEndObject();
    }

    private Utf8JsonWriter Json()
    {
        if (_json is null)
        {
            _json = new Utf8JsonWriter(_pipe);
        }
        else
        {
            _json.Reset(_pipe);
        }

        return _json;
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
