using System.Text.Json;

namespace Flare.Emulator.Api;

/// <summary>The part of an OpenAI (chat) completion request the emulator acts on.</summary>
internal sealed record CompletionRequest(
    bool Chat, string Model, int PromptTokens, bool Stream, bool IncludeUsage, int? MaxTokens, int MinTokens, bool IgnoreEos)
{
    /// <summary>Reads and validates a request body; on failure returns the OpenAI error message and parameter.</summary>
    public static (CompletionRequest? Request, string? Error, string? Param) Parse(JsonElement body, bool chat)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Fail("The request body must be a JSON object.", null);
        }

        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } modelName)
        {
            return Fail("'model' is required and must be a string.", "model");
        }

        int promptTokens;
        if (chat)
        {
            if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            {
                return Fail("'messages' is required and must be a non-empty array.", "messages");
            }

            var parsed = new List<(string, string, string?)>();
            foreach (var m in messages.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                {
                    return Fail("Each message must be an object with a string 'role'.", "messages");
                }

                if (!TryReadContent(m, out var content))
                {
                    return Fail("A message 'content' must be a string, null or an array of text parts.", "messages");
                }

                var name = m.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                parsed.Add((role.GetString()!, content, name));
            }

            promptTokens = EmulatorTokenizer.CountChat(parsed);
        }
        else
        {
            if (!body.TryGetProperty("prompt", out var prompt))
            {
                return Fail("'prompt' is required.", "prompt");
            }

            switch (prompt.ValueKind)
            {
                case JsonValueKind.String:
                    promptTokens = EmulatorTokenizer.Count(prompt.GetString()!);
                    break;
                case JsonValueKind.Array when prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String:
                    promptTokens = EmulatorTokenizer.Count(prompt[0].GetString()!);
                    break;
                case JsonValueKind.Array when prompt.GetArrayLength() > 0 && prompt.EnumerateArray().All(t => t.ValueKind == JsonValueKind.Number):
                    promptTokens = prompt.GetArrayLength();
                    break;
                default:
                    return Fail("'prompt' must be a string, an array of one string, or an array of token ids (batched prompts are not emulated).", "prompt");
            }
        }

        if (!TryBool(body, "stream", out var stream) || !TryBool(body, "ignore_eos", out var ignoreEos))
        {
            return Fail("'stream' and 'ignore_eos' must be booleans.", "stream");
        }

        var includeUsage = false;
        if (body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && !TryBool(options, "include_usage", out includeUsage))
        {
            return Fail("'stream_options.include_usage' must be a boolean.", "stream_options");
        }

        if (!TryInt(body, "max_tokens", out var maxTokens) || !TryInt(body, "max_completion_tokens", out var maxCompletionTokens))
        {
            return Fail("'max_tokens' must be an integer of at least 1.", "max_tokens");
        }

        if (maxTokens is < 1 || maxCompletionTokens is < 1)
        {
            return Fail("'max_tokens' must be at least 1.", "max_tokens");
        }

        if (!TryInt(body, "min_tokens", out var minTokens) || minTokens is < 0)
        {
            return Fail("'min_tokens' must be a non-negative integer.", "min_tokens");
        }

        if (!TryInt(body, "n", out var choices) || choices is not (null or 1))
        {
            return Fail("Only n = 1 is emulated.", "n");
        }

        var max = maxTokens ?? maxCompletionTokens;
        if (minTokens > max)
        {
            return Fail("'min_tokens' must not exceed 'max_tokens'.", "min_tokens");
        }

        return (new CompletionRequest(chat, modelName, promptTokens, stream, includeUsage, max, minTokens ?? 0, ignoreEos), null, null);
    }

    private static (CompletionRequest?, string?, string?) Fail(string message, string? param) => (null, message, param);

    private static bool TryReadContent(JsonElement message, out string content)
    {
        content = "";
        if (!message.TryGetProperty("content", out var c) || c.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (c.ValueKind == JsonValueKind.String)
        {
            content = c.GetString()!;
            return true;
        }

        if (c.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var parts = new List<string>();
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                parts.Add(text.GetString()!);
            }
        }

        content = string.Join("\n", parts);
        return true;
    }

    private static bool TryBool(JsonElement body, string name, out bool value)
    {
        value = false;
        if (!body.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (e.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            value = e.GetBoolean();
            return true;
        }

        return false;
    }

    private static bool TryInt(JsonElement body, string name, out int? value)
    {
        value = null;
        if (!body.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v))
        {
            value = v;
            return true;
        }

        return false;
    }
}
