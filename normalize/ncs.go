package normalize

// Agora's notification envelope, which anyRTC copies: {"noticeId","productId","eventType",
// "notifyMs","payload"}. What the two providers read of it the same way is here.

// ncsWindow checks notifyMs, the send time in the signed body, against the signature window.
// It runs after the signature checked out: a body that is not a JSON object is authentic but
// malformed, and Normalize names the problem.
func ncsWindow(c *Callback, a *Auth) (Verified, error) {
	top, err := c.members()
	if err != nil {
		return Signed, nil
	}
	ms, ok := intValue(lookup(top, "notifyMs"))
	if !ok {
		return Signed, &AuthError{Reason: "notifyMs missing or not a millisecond timestamp, so the signature window cannot be checked"}
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

// ncsSetType sets the type for the notification's (productId, eventType), from the provider's
// table defs: event numbers repeat across products. It returns that key, productId/eventType.
func ncsSetType(ev *Event, defs []EventDef, prefix string, product, code int64) (key []byte) {
	ev.ProviderEventType = ev.keepInt(code)
	key = ev.keep(ev.keepInt(product), []byte{'/'}, ev.ProviderEventType)
	if def := findEvent(defs, key); def != nil {
		ev.setType(prefix, def.Name)
	} else {
		// unknown.<productId>.<eventType>: both are digits, safe as subject tokens.
		ev.Type = ev.keep([]byte(prefix), []byte("unknown."), key)
		ev.Type[len(ev.Type)-len(ev.ProviderEventType)-1] = '.'
		ev.EventType = ev.Type[len(prefix):]
	}
	return key
}

// ncsSetID sets the event id: noticeId, which names one notification across resends, else a
// hash of key and the data.
func ncsSetID(ev *Event, top []member, key []byte) {
	if notice, scratch, ok := stringValue(lookup(top, "noticeId"), ev.scratch[:0]); ok && len(notice) > 0 {
		ev.scratch = scratch
		ev.setProviderID(notice)
	} else {
		ev.hashID(key, ev.Data)
	}
}
