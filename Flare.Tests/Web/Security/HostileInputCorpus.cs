using System.Text;

namespace Flare.Tests.Web.Security;

/// <summary>One hostile request: what is sent, and to where.</summary>
public sealed record HostileCase(string Family, string Method, string Path, string ContentType, byte[] Body)
{
    public override string ToString() => $"{Family}: {Method} {Path} ({Body.Length} bytes)";
}

/// <summary>
/// The corpus thrown at <c>/v1</c>, <c>/api</c> and the import endpoints (issue 9): malformed and truncated
/// JSON, wrong types, huge and negative numbers, deep nesting, invalid UTF-8, 10 MB strings, unknown fields,
/// wrong content types, and CSV with broken quoting and formula cells. Every case is invalid on purpose:
/// each must get a clear 4xx and change nothing.
/// </summary>
public static class HostileInputCorpus
{
    private const string Json = "application/json";

    public static IReadOnlyList<HostileCase> Build(string model, int deploymentId)
    {
        var cases = new List<HostileCase>();
        var chat = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hello there"}],"max_tokens":16}""";
        var completion = $$"""{"model":"{{model}}","prompt":"hello there","max_tokens":16}""";
        var gpu = """{"name":"H100-80GB","memoryGiB":80,"pricePerHourUsd":2.5,"peakBf16Tflops":989,"memoryBandwidthGBs":3350,"poolCount":2}""";
        var modelJson = """{"name":"mistral-7b","family":"Mistral","parameterCountBillions":7.2,"contextLength":32768,"tags":["chat"]}""";
        var deployment = $$"""{"name":"mistral@h100","modelId":999999,"kind":"SelfHosted","baseUrl":"http://10.0.0.9:8000/v1","servedModelName":"mistral","gpuTypeId":999999,"gpuCount":1,"tensorParallel":1,"maxConcurrency":8}""";

        var jsonTargets = new (string Name, string Method, string Path, string Valid)[]
        {
            ("chat", "POST", "/v1/chat/completions", chat),
            ("completions", "POST", "/v1/completions", completion),
            ("gpu-types", "POST", "/api/gpu-types", gpu),
            ("models", "POST", "/api/models", modelJson),
            ("deployments", "POST", "/api/deployments", deployment),
            ("deployment update", "PUT", $"/api/deployments/{deploymentId}", deployment.Replace("999999", "-1")),
        };

        foreach (var (name, method, path, valid) in jsonTargets)
        {
            void Add(string family, string body, string contentType = Json) => cases.Add(new(family + " · " + name, method, path, contentType, Encoding.UTF8.GetBytes(body)));
            void AddBytes(string family, byte[] body) => cases.Add(new(family + " · " + name, method, path, Json, body));

            // Malformed JSON.
            foreach (var body in new[] { "", "{", "}", "[", "null", "true", "42", "\"a string\"", "{'model':'x'}", "{\"a\":1,}", "{\"a\" 1}", valid + "garbage", "{\"a\":NaN}", "{\"a\":undefined}", "\u0000", "{\"a\":\"\\x41\"}" })
            {
                Add("malformed JSON", body);
            }

            // Truncated at several points.
            foreach (var fraction in new[] { 0.1, 0.3, 0.5, 0.7, 0.9, 0.99 })
            {
                Add("truncated JSON", valid[..(int)(valid.Length * fraction)]);
            }

            // Deep nesting (in an unknown field, in a known one).
            foreach (var depth in new[] { 100, 1_000, 100_000 })
            {
                Add("deeply nested JSON", valid.TrimEnd('}') + ",\"nest\":" + new string('[', depth) + new string(']', depth) + "}");
            }

            // Invalid UTF-8 inside a string, and a lone surrogate escape.
            AddBytes("invalid UTF-8", [.. Encoding.UTF8.GetBytes(valid[..^1] + ",\"x\":\""), 0xff, 0xfe, 0xc0, 0xaf, .. "\"}"u8]);
            AddBytes("invalid UTF-8", [.. Encoding.UTF8.GetBytes(valid[..20]), 0xed, 0xa0, 0x80, .. Encoding.UTF8.GetBytes(valid[20..])]);

            // Wrong content type.
            Add("wrong content type", valid, "text/plain");
            Add("wrong content type", "model=x&messages=y", "application/x-www-form-urlencoded");
        }

        void V1(string family, string path, string body) => cases.Add(new(family, "POST", path, Json, Encoding.UTF8.GetBytes(body)));
        void Api(string family, string method, string path, string body) => cases.Add(new(family, method, path, Json, Encoding.UTF8.GetBytes(body)));

        // Wrong types and missing fields on /v1.
        foreach (var body in new[]
        {
            """{"messages":[{"role":"user","content":"hi"}]}""",
            """{"model":123,"messages":[{"role":"user","content":"hi"}]}""",
            """{"model":null,"messages":[{"role":"user","content":"hi"}]}""",
            """{"model":["a"],"messages":[{"role":"user","content":"hi"}]}""",
            """{"model":"","messages":[{"role":"user","content":"hi"}]}""",
            $$"""{"model":"{{model}}"}""",
            $$"""{"model":"{{model}}","messages":"hi"}""",
            $$$"""{"model":"{{{model}}}","messages":{}}""",
            $$"""{"model":"{{model}}","messages":[]}""",
            $$"""{"model":"{{model}}","messages":[1,2]}""",
            $$"""{"model":"{{model}}","messages":[null]}""",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"stream":1}""",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"max_tokens":"16"}""",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"max_tokens":16.5}""",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":[]}""",
            """{"model":"no-such-model-anywhere","messages":[{"role":"user","content":"hi"}]}""",
            """{"model":"no-such-model","unknown_field":{"deep":[1,2,3]},"messages":[{"role":"user","content":"hi"}]}""",
        })
        {
            V1("wrong types · chat", "/v1/chat/completions", body);
        }

        foreach (var body in new[]
        {
            $$"""{"model":"{{model}}"}""",
            $$"""{"model":"{{model}}","prompt":42}""",
            $$"""{"model":"{{model}}","prompt":null}""",
            $$$"""{"model":"{{{model}}}","prompt":{"text":"hi"}}""",
            $$"""{"model":"{{model}}","prompt":true}""",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""",
            $$"""{"model":"{{model}}","prompt":"hi","stream":"true"}""",
            $$"""{"model":"{{model}}","prompt":"hi","max_tokens":"ten"}""",
            """{"model":false,"prompt":"hi"}""",
            """{"prompt":"hi","unknown":1}""",
        })
        {
            V1("wrong types · completions", "/v1/completions", body);
        }

        // Huge and negative numbers.
        foreach (var value in new[] { "-1", "0", "-2147483649", "2147483648", "99999999999999999999999999", "1e308", "-1e308", "1e400", "-0", "1.7976931348623157e309" })
        {
            V1("huge or negative max_tokens · chat", "/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"max_tokens":{{value}}}""");
            V1("huge or negative max_tokens · completions", "/v1/completions", $$"""{"model":"{{model}}","prompt":"hi","max_tokens":{{value}}}""");
        }

        foreach (var (field, value) in new[]
        {
            ("memoryGiB", "-16"), ("memoryGiB", "1e400"), ("memoryGiB", "99999999999999999999"), ("pricePerHourUsd", "-0.01"), ("pricePerHourUsd", "1e308"),
            ("poolCount", "-1"), ("poolCount", "2147483648"), ("peakBf16Tflops", "\"fast\""), ("memoryBandwidthGBs", "null"), ("name", "42"),
            ("name", "\"\""), ("name", "null"), ("name", "[\"a\"]"),
        })
        {
            Api("huge, negative or wrong values · gpu-types", "POST", "/api/gpu-types", gpu.Replace(FieldValue(gpu, field), $"\"{field}\":{value}"));
        }

        foreach (var (field, value) in new[]
        {
            ("parameterCountBillions", "-7"), ("parameterCountBillions", "1e400"), ("contextLength", "-1"), ("contextLength", "4294967296"), ("contextLength", "1.5"),
            ("tags", "\"chat\""), ("tags", "[1,2]"), ("tags", "[\"a,b\"]"), ("family", "{}"), ("name", "\"" + new string('m', 5_000) + "\""),
        })
        {
            Api("huge, negative or wrong values · models", "POST", "/api/models", modelJson.Replace(FieldValue(modelJson, field), $"\"{field}\":{value}"));
        }

        foreach (var (field, value) in new[]
        {
            ("kind", "\"Quantum\""), ("kind", "7"), ("baseUrl", "\"not a url\""), ("baseUrl", "\"file:///etc/passwd\""), ("baseUrl", "\"javascript:alert(1)\""),
            ("gpuCount", "-4"), ("tensorParallel", "3"), ("maxConcurrency", "0"), ("maxConcurrency", "-100"), ("maxConcurrency", "1e10"),
        })
        {
            Api("huge, negative or wrong values · deployments", "POST", "/api/deployments", deployment.Replace(FieldValue(deployment, field), $"\"{field}\":{value}"));
        }

        // Unknown fields: /api is strict about its inputs (a typo must not pass silently).
        Api("unknown fields · gpu-types", "POST", "/api/gpu-types", gpu.TrimEnd('}') + ",\"memoryGB\":80}");
        Api("unknown fields · models", "POST", "/api/models", modelJson.TrimEnd('}') + ",\"contextLenght\":8192}");
        Api("unknown fields · deployments", "POST", "/api/deployments", deployment.TrimEnd('}') + ",\"apikey\":\"sk-typo\"}");
        Api("unknown fields · pool", "PUT", "/api/pool/999999", """{"count":3,"extra":true}""");

        // 10 MB strings.
        var tenMb = new string('A', 10 * 1024 * 1024);
        V1("10 MB string · chat", "/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{tenMb}}"}]}""");
        V1("10 MB string · completions", "/v1/completions", $$"""{"model":"{{model}}","prompt":"{{tenMb}}"}""");
        Api("10 MB string · models", "POST", "/api/models", modelJson.Replace("\"mistral-7b\"", $"\"{tenMb}\""));
        Api("10 MB string · gpu-types", "POST", "/api/gpu-types", gpu.Replace("\"H100-80GB\"", $"\"{tenMb}\""));

        // Profile CSV import: broken quoting, formula cells, wrong layouts.
        var csvPath = $"/api/deployments/{deploymentId}/profile/import?layout=generic";
        foreach (var csv in new[]
        {
            "input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n\"128,16,1,20,5,95\n",
            "input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n128,16,1,\"20\"x,5,95\n",
            "input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n=cmd|'/C calc'!A0,16,1,20,5,95\n",
            "input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n@SUM(1+1),+1,-1,=1+1,5,95\n",
            "input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n-128,16,1,20,5,95\n",
            "input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n1e400,16,1,20,5,95\n",
            "a,b,c\n1,2,3\n",
            "",
            "input_tokens,output_tokens\n\"unterminated",
            "\uFEFF\uFEFF\uFEFF",
        })
        {
            cases.Add(new("CSV import", "POST", csvPath, "text/csv", Encoding.UTF8.GetBytes(csv)));
        }

        cases.Add(new("CSV import", "POST", csvPath, "text/csv", [0xff, 0xfe, 0x00, 0x41, 0xc3]));
        cases.Add(new("CSV import", "POST", $"/api/deployments/{deploymentId}/profile/import?layout=no-such-layout", "text/csv", "a,b\n1,2\n"u8.ToArray()));
        cases.Add(new("CSV import", "POST", "/api/deployments/999999/profile/import?layout=generic", "text/csv", "input_tokens\n1\n"u8.ToArray()));
        cases.Add(new("CSV import", "POST", csvPath, "text/csv", Encoding.UTF8.GetBytes("input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n" + tenMb)));
        // Routing-history uploads: what can be refused before the background import starts (rows that are bad inside an
        // accepted file are reported per line on the dataset instead, with the good rows kept).
        var jsonl = "{\"prompt\":\"hi\",\"scores\":{\"m\":1}}\n"u8.ToArray();
        foreach (var query in new[] { "format=yaml&name=x", "name=no-format", "format=&name=x", "format=jsonl&name=x&assumedOutputTokens=-5",
                     "format=jsonl&name=x&assumedOutputTokens=1e400", "format=jsonl&name=x&assumedOutputTokens=abc" })
        {
            cases.Add(new("history upload", "POST", $"/api/history/datasets?{query}", "application/x-ndjson", jsonl));
        }

        cases.Add(new("history upload", "POST", "/api/history/datasets?format=jsonl&name=empty", "application/x-ndjson", []));
        cases.Add(new("history upload", "POST", "/api/history/datasets", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\njsonl\r\n--xyz--\r\n"u8.ToArray()));
        cases.Add(new("history upload", "POST", "/api/history/datasets", "multipart/form-data; boundary=xyz", "--xyz\r\nbroken"u8.ToArray()));
        cases.Add(new("history upload", "POST", "/api/history/datasets", "multipart/form-data; boundary=xyz",
            "--xyz\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nllmrouter\r\n--xyz\r\nContent-Disposition: form-data; name=\"prices\"\r\n\r\n{not-json\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.json\"\r\n\r\n[]\r\n--xyz--\r\n"u8.ToArray()));
        foreach (var body in new[] { "[", "{}", "[{\"datasetModel\":1,\"registryModelId\":\"x\"}]", "[{\"datasetModel\":\"m\",\"registryModelId\":1,\"extra\":true}]", "[{\"datasetModel\":\"m\",\"registryModelId\":1}]" })
        {
            cases.Add(new("history model mapping", "PUT", "/api/history/datasets/999999/models", Json, Encoding.UTF8.GetBytes(body)));
        }

        cases.Add(new("history dataset", "DELETE", "/api/history/datasets/999999", Json, []));

        foreach (var body in new[] { "{", "[]", "{\"request_id\":\"req_nope\",\"score\":0.5}", "{\"request_id\":\"req_x\",\"score\":1.5}", "{\"request_id\":\"req_x\",\"score\":-0.1}",
                     "{\"request_id\":\"req_x\",\"score\":\"good\"}", "{\"request_id\":42,\"score\":0.5}", "{\"score\":0.5}", "{\"request_id\":\"req_x\",\"score\":1e400}",
                     "{\"request_id\":\"req_x\",\"score\":0.5,\"output_tokens\":-3}" })
        {
            cases.Add(new("feedback", "POST", "/v1/feedback", Json, Encoding.UTF8.GetBytes(body)));
        }
        return cases;
    }

    /// <summary>The <c>"field":value</c> text of a flat JSON object, to replace.</summary>
    private static string FieldValue(string json, string field)
    {
        var start = json.IndexOf($"\"{field}\":", StringComparison.Ordinal);
        var end = start + field.Length + 3;
        var depth = 0;
        var inString = false;
        for (; end < json.Length; end++)
        {
            var c = json[end];
            if (c == '"' && json[end - 1] != '\\')
            {
                inString = !inString;
            }
            else if (!inString && c is '[' or '{')
            {
                depth++;
            }
            else if (!inString && c is ']' or '}')
            {
                if (depth == 0)
                {
                    break;
                }

                depth--;
            }
            else if (!inString && depth == 0 && c == ',')
            {
                break;
            }
        }

        return json[start..end];
    }
}
