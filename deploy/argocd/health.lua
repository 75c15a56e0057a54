-- Argo CD health check for AlertSync resources: AlertIntegration, AlertPlatform
-- and ClusterAlertPlatform (argocd-cm key
-- resource.customizations.health.alertsync.dev_<Kind>; docs/gitops.md).
--
-- It reads what AlertSync writes: metadata.generation, status.observedGeneration
-- and the Ready and Stalled conditions, in the same order as kstatus (which Flux
-- uses); docs/gitops.md says where the two differ. Argo CD runs it in a Lua 5.1
-- VM with only the base, table and os libraries: no string or math functions here.

-- Ready=False reasons that wait for a person. AlertSync sets Stalled=True on
-- the first three itself; the others it retries or keeps watching, but they do
-- not go away without someone acting.
local degraded = {
  InvalidSpec = true,          -- the message names the field to fix
  AdoptionRefused = true,      -- an object of that name exists and is not ours
  PlatformRejected = true,     -- the platform refused the request (4xx)
  CredentialsRejected = true,  -- the platform refused the token: replace it in the Secret
  PermissionDenied = true,     -- the token may read but not write: give it write permission
  NotPermitted = true,         -- the ClusterAlertPlatform does not serve this namespace
  HeldByPlatform = true,       -- the platform holds the object (Mackerel suspended it)
  DriftDetected = true,        -- ObserveOnly: the difference is reported, never repaired
  NotFound = true,             -- ObserveOnly: the object does not exist on the platform
}
-- Every other Ready=False reason is Progressing: AlertSync retries by itself.
-- PlatformUnavailable and RateLimited clear when the platform answers again;
-- CredentialsMissing clears within 30 s of the Secret appearing, which in a
-- GitOps sync is often moments later (a later wave, an external-secrets
-- controller). A reason this script does not know is Degraded only with
-- Stalled=True, which is checked first.

local function find(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == kind then
      return condition
    end
  end
  return nil
end

local function describe(condition)
  local text = condition.reason or condition.type
  if condition.message ~= nil and condition.message ~= "" then
    text = text .. ": " .. condition.message
  end
  return text
end

local hs = {}
local metadata = obj.metadata or {}
local status = obj.status

if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "being deleted: AlertSync is releasing the platform object"
  return hs
end

if status == nil then
  hs.status = "Progressing"
  hs.message = "waiting for AlertSync to reconcile it"
  return hs
end

local ready = find(status.conditions, "Ready")
-- Numbers may arrive as numbers or as strings: compare them as numbers.
local generation = tonumber(metadata.generation)
local observed = tonumber(status.observedGeneration)

if generation ~= nil and observed ~= generation then
  hs.status = "Progressing"
  hs.message = "AlertSync has not yet handled generation " .. tostring(generation)
  if ready ~= nil then
    hs.message = hs.message .. " (Ready=" .. tostring(ready.status) .. ", " .. describe(ready) .. ")"
  end
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "waiting for AlertSync to report Ready"
  return hs
end

local stalled = find(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
  -- Confluent's delivery test reaches the receiver, not the platform: the
  -- integration is fine, but say so.
  local delivered = find(status.conditions, "Delivered")
  if delivered ~= nil and delivered.status == "False" then
    hs.message = hs.message .. "; last delivery test failed: " .. describe(delivered)
  end
  return hs
end

if ready.status == "False" and degraded[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
hs.message = "AlertSync retries: " .. describe(ready)
return hs
