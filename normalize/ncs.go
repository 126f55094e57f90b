package normalize

// Agora's notification envelope, which anyRTC copies: {"noticeId","productId","eventType",
// "notifyMs","payload"}. What the two providers read of it the same way is here.

// ncsReplayWindow checks notifyMs, the send time in the signed body, against the replay window.
// It runs after the signature checked out: a body that is not a JSON object is authentic but
// malformed, and Normalize names the problem.
func ncsReplayWindow(c *Callback, a *Auth) (Verified, error) {
	top, err := c.members()
	if err != nil {
		return Signed, nil
	}
	ms, ok := intValue(lookup(top, "notifyMs"))
	if !ok {
		return Signed, &AuthError{Reason: "notifyMs missing or not a millisecond timestamp, so the replay window cannot be checked"}
	}
	return Signed, checkSkew("notifyMs", unixTime(ms), c.Received, a.MaxSkew)
}

// ncsEnvelope reads the envelope's top-level members: the product, the event code and the
// payload object.
func ncsEnvelope(c *Callback) (top []member, product, code int64, payload []byte, err error) {
	if top, err = c.members(); err != nil {
		return nil, 0, 0, nil, err
	}
	var ok bool
	if product, ok = intValue(lookup(top, "productId")); !ok {
		return nil, 0, 0, nil, payloadErr("productId", "missing or not an integer")
	}
	if code, ok = intValue(lookup(top, "eventType")); !ok {
		return nil, 0, 0, nil, payloadErr("eventType", "missing or not an integer")
	}
	if payload = lookup(top, "payload"); len(payload) == 0 || payload[0] != '{' {
		return nil, 0, 0, nil, payloadErr("payload", "missing or not an object")
	}
	return top, product, code, payload, nil
}
