-- SPDX-License-Identifier: MIT
-- Run by ardour_session.sh in Ardour 7's headless Lua tool (ardour7-lua): one phase per run.
-- It only drives Ardour and prints "ok"/"FAIL" lines; it never touches files (the script does).
--   CN_ARDOUR_PHASE=create: a session on the Dummy backend (its inputs play a sine), an audio
--     track with continuo.lv2 loaded with the test preset (endpoint "test:100" loopback), controls
--     set, 2.5 s captured while rolling, Generate, 2 candidates ready, saved.
--   CN_ARDOUR_PHASE=reopen: the session loaded again in a fresh Ardour: controls, candidates
--     (from the session's clip files) and audition, then candidate 2 selected and saved again.
-- Env: CN_ARDOUR_SESSION (folder), CN_ARDOUR_PRESET (label of the test preset).

local URI = "http://continuo.dev/lv2/continuo"
local phase = os.getenv("CN_ARDOUR_PHASE") or "create"
local dir = assert(os.getenv("CN_ARDOUR_SESSION"), "CN_ARDOUR_SESSION not set")
local preset = os.getenv("CN_ARDOUR_PRESET") or "Ardour test loopback"

-- Parameter numbers as Ardour counts them: control ports in port order (plugin/core.h).
local P = { capture = 0, generate = 1, candidate = 2, audition = 3, n = 8, seconds = 9,
            temperature = 10, mix = 11, song_seconds = 12, status = 13, progress = 14,
            error = 15, ready = 16, playing = 17, captured = 18 }
local SHIPPED = { "Local CPU, 3 candidates, 4 s", "Remote GPU, 5b_lyrics", "Upsample to level 1 only" }

local function sleep(s) ARDOUR.LuaAPI.usleep(math.floor(s * 1000000)) end
local function check(what, ok, got)
  print(string.format("%s %s (%s)", ok and "ok  " or "FAIL", what, tostring(got)))
end
local function near(a, b, tol) return a ~= nil and math.abs(a - b) <= tol end

local proc, track
local function get(name) return (ARDOUR.LuaAPI.get_processor_param(proc, P[name], true)) end
local function set(name, v) return ARDOUR.LuaAPI.set_processor_param(proc, P[name], v) end
local function wait_for(name, value, seconds)
  for _ = 1, seconds * 10 do
    if get(name) >= value then return true end
    sleep(0.1)
  end
  return false
end
-- Highest peak (dBFS) on the track's output over `seconds`, both channels.
local function peak_db(seconds)
  local m = track:peak_meter()
  m:reset_max()
  sleep(seconds)
  return math.max(m:meter_level(0, ARDOUR.MeterType.MeterMaxPeak),
                  m:meter_level(1, ARDOUR.MeterType.MeterMaxPeak))
end
local function trigger(name) set(name, 1); sleep(0.3); set(name, 0) end

-- The Dummy backend's "Sine Wave" device: every capture port plays a -18 dBFS sine.
local be = AudioEngine:set_backend("None (Dummy)", "", "")
assert(be and not be:isnil(), "no Dummy backend")
be:set_device_name("Sine Wave")

local function create()
  local s = create_session(dir, "continuo", 48000)
  assert(s, "create_session failed for " .. dir)
  track = s:new_audio_track(2, 2, nil, 1, "Continuo", ARDOUR.PresentationInfo.max_order,
                            ARDOUR.TrackMode.Normal, true):front()
  proc = ARDOUR.LuaAPI.new_plugin(s, URI, ARDOUR.PluginType.LV2, preset)
  check("Ardour loads continuo.lv2 (" .. URI .. ")", not proc:isnil(), not proc:isnil())
  if proc:isnil() then return end
  local added = track:add_processor_by_index(proc, 0, nil, true)
  check("plugin added to the audio track", added == 0, "add_processor_by_index " .. added)
  local plug = proc:to_insert():plugin(0)
  for _, label in ipairs(SHIPPED) do
    local pr = plug:preset_by_label(label)
    check("shipped preset listed: " .. label, pr ~= nil and pr.valid, pr and pr.uri)
  end
  local last = plug:last_preset()
  check("test preset loaded", last.valid and last.label == preset, last.uri)
  check("preset set N=2 and seconds=2", get("n") == 2 and get("seconds") == 2,
        string.format("n %g seconds %g", get("n"), get("seconds")))
  local ok = set("temperature", 0.8) and set("song_seconds", 30) and set("mix", 0)
  check("temperature 0.8, song length 30 s, mix 0 accepted", ok, ok)

  track:monitoring_control():set_value(ARDOUR.MonitorChoice.MonitorInput,
                                       PBD.GroupControlDisposition.NoGroup)
  set("capture", 1)
  s:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
  for _ = 1, 50 do
    if s:transport_rolling() then break end
    sleep(0.1)
  end
  -- Roll until the transport has moved 2.5 s (it can run slower than the wall clock on a
  -- loaded machine), metering the track meanwhile.
  track:peak_meter():reset_max()
  local rate = s:nominal_sample_rate()
  for _ = 1, 150 do
    if s:transport_sample() >= 2.5 * rate then break end
    sleep(0.1)
  end
  local dry = math.max(track:peak_meter():meter_level(0, ARDOUR.MeterType.MeterMaxPeak),
                       track:peak_meter():meter_level(1, ARDOUR.MeterType.MeterMaxPeak))
  local status = get("status")
  local rolled = s:transport_sample() / rate
  check("the Dummy backend's sine reaches the track through the plugin (mix 0, dry)",
        dry > -24 and dry < -12, string.format("%.1f dBFS", dry))
  check("transport rolls and the plugin captures", s:transport_rolling() and status == 1,
        string.format("rolling %s, status %g", tostring(s:transport_rolling()), status))
  set("capture", 0)
  s:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
  sleep(0.3)
  local cap = get("captured")
  check("the plugin captured what the transport rolled (about 2.5 s)",
        cap > 2.0 and near(cap, rolled, 0.15),
        string.format("captured %.3f s, transport rolled %.3f s", cap, rolled))
  trigger("generate")
  local ready = wait_for("ready", 2, 20)
  check("Generate through the test: loopback: 2 candidates ready", ready and get("error") == 0,
        string.format("ready %g status %g error %g", get("ready"), get("status"), get("error")))
  set("mix", 0.75)
  local rv = s:save_state("", false, false, false, false, false)
  check("session saved", rv == 0, "save_state " .. rv)
end

local function reopen()
  local s = load_session(dir, "continuo")
  assert(s, "load_session failed for " .. dir)
  local r = s:route_by_name("Continuo")
  check("session reopened with its track", not r:isnil(), not r:isnil() and r:name())
  if r:isnil() then return end
  track = r:to_track()
  proc = track:nth_plugin(0)
  local name = proc:isnil() and "none" or proc:display_name()
  check("continuo.lv2 is back on the track", name == "Continuo", name)
  if proc:isnil() then return end
  local got = string.format("n %g seconds %g temperature %.3f mix %.3f song %g",
                            get("n"), get("seconds"), get("temperature"), get("mix"),
                            get("song_seconds"))
  check("controls restored (n 2 seconds 2 temperature 0.8 mix 0.75 song 30)",
        get("n") == 2 and get("seconds") == 2 and near(get("temperature"), 0.8, 1e-4) and
        near(get("mix"), 0.75, 1e-4) and get("song_seconds") == 30, got)
  local ready = wait_for("ready", 2, 10)
  check("the 2 candidates are back (read from the session's clip files)",
        ready and get("error") == 0,
        string.format("ready %g status %g error %g", get("ready"), get("status"), get("error")))
  for _ = 1, 100 do
    if get("status") == 6 then break end
    sleep(0.1)
  end
  check("the status control says Ready (6) once the helper answers", get("status") == 6,
        string.format("status %g", get("status")))
  set("mix", 1)
  set("candidate", 1)
  local quiet = peak_db(0.5)
  set("audition", 1)
  local heard = peak_db(0.5)
  local playing = get("playing")
  set("audition", 0)
  check("Audition plays restored candidate 1 (0.25 peak = -12 dBFS, mix 1)",
        near(heard, -12.04, 1.0) and playing == 1,
        string.format("%.2f dBFS, playing %g", heard, playing))
  check("silent without Audition (mix 1)", quiet < -60, string.format("%.1f dBFS", quiet))
  set("candidate", 2)
  sleep(0.2)
  local rv = s:save_state("", false, false, false, false, false)
  check("candidate 2 selected and the session saved again", rv == 0, "save_state " .. rv)
end

if phase == "create" then create() else reopen() end
close_session()
print("phase " .. phase .. " done")
