"""The served assistant end to end: stack.py starts both servers; we talk over the REST channel."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import ROOT

pytestmark = pytest.mark.servers
MODEL = ROOT / "models" / "panchayat.tar.gz"
RASA_PORT, ACTION_PORT = 5105, 5155
SIGNING_KEY = "test-signing-key"
PHONES_USED = ("910000000003", "910000000002", "919800012345")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test does it first)")
    var = tmp_path_factory.mktemp("var")
    env = dict(os.environ, PANCHAYAT_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'panchayat.db'}",
               RASA_PORT=str(RASA_PORT), ACTION_PORT=str(ACTION_PORT), CONSOLE_PORT="8170",
               CERTIFICATE_SIGNING_KEY=SIGNING_KEY)
    subprocess.run([sys.executable, "scripts/stack.py", "db"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "scripts/stack.py", "serve"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline, ready, seen = time.time() + 300, False, []
    for line in server.stdout:
        seen.append(line)
        if "serve: ready" in line:
            ready = True
            break
        if time.time() > deadline or server.poll() is not None:
            break
    if not ready:
        server.kill()
        pytest.fail("the assistant did not start: " + "".join(seen[-5:]))
    # Keep reading the servers' logs (a full pipe would stall them), to check them at the end.
    drain = threading.Thread(target=lambda: seen.extend(server.stdout), daemon=True)
    drain.start()
    yield f"http://localhost:{RASA_PORT}", var
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    drain.join(timeout=10)
    logs = "".join(seen)
    # Phone numbers and secrets never reach the logs (the numbers the tests below write from).
    for secret in (SIGNING_KEY, *PHONES_USED):
        assert secret not in logs
    # Everything the stack started has stopped: the ports are free again.
    for port in (RASA_PORT, ACTION_PORT):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://localhost:{port}/", timeout=2)


def say(url, sender, text):
    reply = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    reply.raise_for_status()
    return [m.get("text", "") for m in reply.json()]


def test_bengali_greeting_gets_the_menu_in_bengali(assistant):
    url, _ = assistant
    greeting, menu = say(url, "demo-citizen", "নমস্কার")
    assert greeting.startswith("নমস্কার!")
    assert "ট্রেড এনওসি" in menu and "অতিথিশালা" in menu


def test_english_greeting_gets_the_menu_in_english(assistant):
    url, _ = assistant
    # A first message in English: the conversation is in English (a later lone "hello" from a
    # Bengali writer would not switch it).
    *_notice, greeting, menu = say(url, "english-villager", "hello")
    assert greeting.startswith("Hello!")
    assert "Trade NOC" in menu and "guest-house" in menu


def test_office_hours_of_the_sample_gp(assistant):
    url, _ = assistant
    answer = say(url, "demo-citizen", "পঞ্চায়েত অফিস কখন খোলা থাকে?")
    assert answer[0] == ("বগুলা-১ গ্রাম পঞ্চায়েত অফিস খোলা থাকে: সোমবার থেকে শুক্রবার সকাল ১০:৩০ থেকে বিকেল ৫:৩০, "
                         "শনিবার সকাল ১০:৩০ থেকে দুপুর ২টো; রবিবার ও সরকারি ছুটির দিন বন্ধ।")


def test_new_villager_is_asked_for_the_gp_then_answered(assistant):
    url, _ = assistant
    asked = say(url, "villager-without-gp", "office kokhon khola thake")
    from panchayat.catalogue import text
    # First contact: the privacy notice, then the question.
    assert asked[0].startswith("শুরুর আগে জানিয়ে রাখি") and asked[1].startswith("Before we begin")
    assert asked[2:] == [text("gp_ask", "bn")]
    answered = say(url, "villager-without-gp", "Hanskhali")
    assert answered[0].startswith("ঠিক আছে: হাঁসখালি গ্রাম পঞ্চায়েত")
    assert answered[1].startswith("হাঁসখালি গ্রাম পঞ্চায়েত অফিস খোলা থাকে")


def test_out_of_scope_and_goodbye(assistant):
    url, _ = assistant
    assert say(url, "demo-citizen", "what is the weather today")[0].startswith("Sorry, I can't help with that")
    assert say(url, "demo-citizen", "আসি")[0].startswith("ভালো থাকবেন")


def test_certificate_qr_verifies_through_the_server(assistant, monkeypatch):
    from panchayat import certificates, db, signing
    from panchayat.models import Certificate

    url, var = assistant
    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", SIGNING_KEY)
    with db.session_scope(f"sqlite:///{var / 'panchayat.db'}") as session:
        certificate = session.query(Certificate).first()
        number, holder = certificate.number, certificates.holder_of(certificate)
    payload = signing.sign(number, holder)
    verify = f"{url}/webhooks/verify/certificate"
    answer = requests.get(verify, params={"c": payload}, timeout=10).json()
    assert answer["result"] == "valid" and answer["number"] == number and answer["holder"] == holder
    forged = payload.replace(number, number[:-1] + "9")
    assert requests.get(verify, params={"c": forged}, timeout=10).json() == {"result": "unknown"}
    page = requests.get(verify, params={"c": payload}, headers={"Accept": "text/html"}, timeout=10)
    assert "বৈধ শংসাপত্র" in page.text and "Valid certificate" in page.text


def replies(url, sender, text):
    reply = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    reply.raise_for_status()
    return reply.json()


def test_banglish_trade_noc_from_application_to_verified_pdf(assistant, tmp_path, monkeypatch):
    """The Done-when of the certificates issue: apply in Banglish with a document, staff approve
    from the command line, download the PDF, and its QR payload verifies."""
    from panchayat import signing

    url, var = assistant
    sender = "demo-citizen"
    deed = tmp_path / "dokan-dolil.pdf"
    deed.write_bytes(b"%PDF-1.4\n% proof of premises\n")
    first = [m.get("text", "") for m in replies(url, sender, "amar trade licence er abedon korte chai")]
    assert any("ট্রেড এনওসি" in t for t in first)
    assert first[-1] == "ব্যবসা বা দোকানের নাম কী?"
    for answer in ("Maa Kali Bhandar", "mudir dokan", "Bagula bazar, bus stand er pashe",
                   "Rahim Sheikh", "১/১২/২০২৬", str(deed)):
        last = replies(url, sender, answer)
    summary = last[-1]
    assert "Maa Kali Bhandar" in summary["text"] and len(summary["buttons"]) == 3
    submitted = " ".join(m.get("text", "") for m in replies(url, sender, "/affirm"))
    number = re.search(r"TN-\d{4}-\d{6}", submitted).group(0)
    env = dict(os.environ, PANCHAYAT_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'panchayat.db'}")
    approved = subprocess.run([sys.executable, "-m", "panchayat", "applications", "approve", number.lower(),
                               "--by", "Rina Biswas"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert approved.returncode == 0, approved.stderr
    (document,) = [m["custom"] for m in replies(url, sender, f"{number} er certificate download korbo")
                   if m.get("custom")]
    pdf = open(document["document"], "rb").read()
    assert pdf.startswith(b"%PDF") and len(pdf) <= 60 * 1024
    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", SIGNING_KEY)
    payload = signing.sign(number, "Rahim Sheikh")
    answer = requests.get(f"{url}/webhooks/verify/certificate", params={"c": payload}, timeout=10).json()
    assert answer["result"] == "valid" and answer["number"] == number
    # Someone else asking for it gets a polite refusal and no document.
    stranger = replies(url, "villager-without-gp", f"{number} download")
    assert not any(m.get("custom") for m in stranger)


def test_bengali_building_permission_with_a_correction(assistant, tmp_path):
    url, var = assistant
    sender = "bengali-builder"
    plan = tmp_path / "naksha.png"
    plan.write_bytes(b"\x89PNG\r\n\x1a\n a building plan")
    deed = tmp_path / "porcha.jpg"
    deed.write_bytes(b"\xff\xd8\xff\xe0 a record of rights")
    first = [m.get("text", "") for m in replies(url, sender, "বাড়ি তৈরির অনুমতির জন্য আবেদন করতে চাই")]
    assert first[-1].startswith("আপনি কোন গ্রাম পঞ্চায়েতের বাসিন্দা?")  # a new citizen names the GP first
    after_gp = [m.get("text", "") for m in replies(url, sender, "বগুলা ২")]
    assert after_gp[0].startswith("ঠিক আছে: বগুলা-২ গ্রাম পঞ্চায়েত") and after_gp[-1] == "আবেদনকারীর পুরো নাম কী?"
    for answer in ("নির্মল সরকার", "হরিপদ সরকার", "পূর্বপাড়া, বগুলা, পিন ৭৪১৫০২", "বগুলা", "৪৫", "১১২৩", "২৩০১"):
        replies(url, sender, answer)
    asked_again = [m.get("text", "") for m in replies(url, sender, "দাগ নম্বর ভুল হয়েছে")]
    assert asked_again[-1] == "দাগ নম্বর কত?"
    assert [m.get("text") for m in replies(url, sender, "২৩০৫")][-1].startswith("জমির পরিমাণ কত?")
    bad = [m.get("text", "") for m in replies(url, sender, "৫")]
    assert "কাঠা" in bad[0]
    for answer in ("৫ কাঠা", "1", "২", "১২০০ বর্গফুট", str(deed), str(plan)):
        last = replies(url, sender, answer)
    summary = last[-1]["text"]
    assert "২৩০৫" in summary or "2305" in summary
    assert "5 katha (3,600 sq ft)" in summary
    done = " ".join(m.get("text", "") for m in replies(url, sender, "হ্যাঁ"))
    number = re.search(r"BP-\d{4}-\d{6}", done).group(0)
    env = dict(os.environ, PANCHAYAT_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'panchayat.db'}")
    subprocess.run([sys.executable, "-m", "panchayat", "applications", "approve", number], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    (document,) = [m["custom"] for m in replies(url, sender, f"{number} সার্টিফিকেট ডাউনলোড") if m.get("custom")]
    assert "বাড়ি তৈরির অনুমতি" in document["caption"]
    assert open(document["document"], "rb").read().startswith(b"%PDF")


def test_booking_a_room_in_banglish_and_the_fee(assistant):
    url, _var = assistant
    sender = "demo-citizen"
    first = [m.get("text", "") for m in replies(url, sender, "guest house e room book korte chai")]
    assert first[-1].startswith("কোন অতিথিশালা?")
    asked = [m.get("text", "") for m in replies(url, sender, "2")]
    assert asked[-1].startswith("কোন তারিখ থেকে")
    rooms = [m.get("text", "") for m in replies(url, sender, "20 theke 22 january")]
    assert rooms[-1].startswith("কয়টি ঘর লাগবে?")
    too_many = [m.get("text", "") for m in replies(url, sender, "9")]
    assert "খালি নেই" in too_many[0]
    summary = replies(url, sender, "১")[-1]
    assert "₹১,৬০০" in summary["text"] and len(summary["buttons"]) == 2
    done = " ".join(m.get("text", "") for m in replies(url, sender, "/affirm"))
    assert re.search(r"GH-\d{4}-\d{6}", done)


def test_booking_where_there_is_no_guest_house(assistant):
    url, _var = assistant
    sender = "amdanga-villager"
    replies(url, sender, "I want to book a guest house room")
    answer = [m.get("text", "") for m in replies(url, sender, "Amdanga")]
    assert any("no panchayat guest house" in t for t in answer)
    assert [m.get("text") for m in replies(url, sender, "hello")][0].startswith("Hello!")


def test_cancelling_my_own_booking_after_a_confirmation(assistant):
    from panchayat import db
    from panchayat.models import Notification

    url, var = assistant
    sender = "demo-applicant-2"  # has one upcoming booking in the demo data
    asked = replies(url, sender, "amar guest house booking ta cancel korte chai")
    assert asked[-1]["text"].startswith("এই বুকিংটি বাতিল করব?") and len(asked[-1]["buttons"]) == 2
    number = re.search(r"GH-\d{4}-\d{6}", asked[-1]["text"]).group(0)
    done = [m.get("text", "") for m in replies(url, sender, "হ্যাঁ")]
    assert done[0] == f"বুকিং {number} বাতিল হয়েছে।"
    with db.session_scope(f"sqlite:///{var / 'panchayat.db'}") as session:
        last = session.query(Notification).order_by(Notification.id.desc()).first()
        assert (last.kind, last.params["number"]) == ("booking_cancelled_by_guest", number)
    # Nothing left to cancel; and someone else's number reveals nothing.
    assert [m.get("text") for m in replies(url, sender, "cancel my booking")][0] == (
        "You have no upcoming booking to cancel.")
    other = [m.get("text") for m in replies(url, "demo-citizen", f"please cancel my booking {number}")]
    assert other[0] == f"I could not find booking {number} among your bookings. Please check the number."


def staff(var, *args):
    env = dict(os.environ, PANCHAYAT_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'panchayat.db'}")
    done = subprocess.run([sys.executable, "-m", "panchayat", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def delivered(var, sender):
    """What the terminal chat shows the sender from the outbox."""
    from panchayat import outbox

    return outbox.deliver_pending(sender, database_url=f"sqlite:///{var / 'panchayat.db'}")


def test_banglish_complaint_with_a_photo_resolved_and_rated(assistant, tmp_path):
    """The complaints half of the guest-house-and-complaints issue's Done-when."""
    url, var = assistant
    sender = "banglish-complainant"
    photo = tmp_path / "alo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a dark street at night")
    asked = [m.get("text", "") for m in replies(url, sender, "amader parar rastar alo 3 din dhore jolche na")]
    assert asked[-1].startswith("আপনি কোন গ্রাম পঞ্চায়েতের বাসিন্দা?")  # a new villager names the GP first
    asked = [m.get("text", "") for m in replies(url, sender, "Bagula 1")]
    assert asked[0].startswith("ঠিক আছে: বগুলা-১") and asked[-1].startswith("পারলে সমস্যার একটি ছবি পাঠান")
    assert "ছবি পেয়েছি" in " ".join(m.get("text", "") for m in replies(url, sender, str(photo)))
    summary = replies(url, sender, "kalitala mandirer samne")[-1]
    assert "রাস্তার আলো" in summary["text"] and "kalitala mandirer samne" in summary["text"]
    assert "দেওয়া হয়েছে" in summary["text"] and len(summary["buttons"]) == 2
    done = " ".join(m.get("text", "") for m in replies(url, sender, "haan"))
    number = re.search(r"GR-\d{4}-\d{6}", done).group(0)
    staff(var, "grievances", "assign", number.lower().replace("-", "/"), "--to", "Ratan Mistri")
    staff(var, "grievances", "resolve", number, "--note", "Notun bulb lagano hoyeche")
    shown = delivered(var, sender)
    assert len(shown) == 2 and number in shown[1] and "১ (খারাপ) থেকে ৫" in shown[1]
    thanked = [m.get("text", "") for m in replies(url, sender, "5 dilam")]
    assert thanked[0].startswith("ধন্যবাদ!") and number in thanked[0]
    from panchayat import db, grievances
    with db.session_scope(f"sqlite:///{var / 'panchayat.db'}") as session:
        grievance = grievances.find(session, number)
        assert grievance.rating == 5 and grievance.category == "street_light"
        assert [a.purpose for a in grievance.attachments] == ["photo"]


def test_bengali_complaint_kind_from_the_list_and_status(assistant):
    url, _var = assistant
    sender = "demo-applicant-3"
    asked = replies(url, sender, "একটা অভিযোগ জানাতে চাই")[-1]
    assert asked["text"] == "অভিযোগটি কী নিয়ে? একটি বেছে নিন:" and len(asked["buttons"]) == 7
    described = [m.get("text", "") for m in replies(url, sender, "২")]
    assert described[-1].startswith("সমস্যাটি কয়েকটি কথায় লিখুন (টিউবওয়েল)")
    replies(url, sender, "হাতল ভেঙে গেছে, জল উঠছে না")
    replies(url, sender, "ছবি নেই")
    assert replies(url, sender, "লোকেশন নেই")[-1]["text"].startswith("অভিযোগটি মিলিয়ে নিন")
    done = " ".join(m.get("text", "") for m in replies(url, sender, "হ্যাঁ"))
    number = re.search(r"GR-\d{4}-\d{6}", done).group(0)
    status = [m.get("text", "") for m in replies(url, sender, f"{number} এর অবস্থা কী")]
    assert status[0].startswith(f"অভিযোগ {number} (টিউবওয়েল)")


def test_a_cli_cancellation_reaches_the_guest_in_their_language(assistant):
    url, var = assistant
    sender = "demo-citizen"
    replies(url, sender, "hello")
    replies(url, sender, "book a guest house room")
    replies(url, sender, "1")
    replies(url, sender, "10 to 11 february")
    replies(url, sender, "1")
    done = " ".join(m.get("text", "") for m in replies(url, sender, "yes"))
    number = re.search(r"GH-\d{4}-\d{6}", done).group(0)
    delivered(var, sender)
    staff(var, "bookings", "cancel", number, "--reason", "Election duty: the guest house is requisitioned")
    (message,) = delivered(var, sender)
    assert number in message and "Election duty" in message and message.isascii()


def test_an_employee_sets_a_pin_and_gets_pay_documents_in_both_languages(assistant):
    """The employees issue's Done-when, over the REST channel with the employee's number as sender."""
    import json

    url, var = assistant
    employee, stranger = "910000000003", "919800012345"
    one_time = json.loads(staff(var, "employees", "issue-pin", "DEMO-EMP-003", "--json"))["pin"]
    asked = [m.get("text", "") for m in replies(url, employee, "gato maser payslip ta chai")]
    assert asked[-1].startswith("আপনার বেতনের তথ্য সুরক্ষিত রাখতে আপনার পিন পাঠান")
    assert "নিজের একটি পিন" in replies(url, employee, one_time)[-1]["text"]
    assert "পিন ঠিক হয়ে গেছে" in " ".join(m.get("text", "") for m in replies(url, employee, "7294"))
    (slip,) = [m["custom"] for m in replies(url, employee, "gato maser payslip ta chai") if m.get("custom")]
    assert slip["filename"].startswith("payslip-DEMO-EMP-003-") and "বেতনপত্র" in slip["caption"]
    assert open(slip["document"], "rb").read().startswith(b"%PDF")
    (statement,) = [m["custom"] for m in replies(url, employee, "send my salary statement for last year")
                    if m.get("custom")]
    assert statement["filename"].endswith(".pdf") and "salary statement" in statement["caption"]
    # A stranger's number and a wrong PIN learn the same nothing.
    replies(url, stranger, "amar payslip chai")
    refused_stranger = [m.get("text", "") for m in replies(url, stranger, "7294")]
    other = "910000000002"
    replies(url, other, "amar payslip chai")
    refused_wrong = [m.get("text", "") for m in replies(url, other, "7294")]
    assert refused_stranger == refused_wrong and not any("custom" in m for m in replies(url, stranger, "hello"))


def test_chatter_read_as_a_request_is_set_aside_and_reaches_the_inbox(assistant):
    """Cricket talk that the classifier reads as a complaint (a line of tests/nlu/ood/dev.txt) names
    nothing of ours: the villager gets no complaint form, and the trainers see it with the guess."""
    from panchayat import db, nlu_inbox
    from panchayat.our_business import REQUEST_INTENTS

    url, var = assistant
    chatter = "সাকিব ভাই চার তো দিলেন। একটা ছয় দরকার। হেহেহে।"
    parse = requests.post(f"{url}/model/parse", json={"text": chatter}, timeout=60).json()
    assert parse["intent"]["name"] == "inform"
    assert parse["request_set_aside"]["name"] in REQUEST_INTENTS, parse["intent_ranking"][:3]
    assert say(url, "919800000991", chatter) != []
    tracker = requests.get(f"{url}/conversations/919800000991/tracker", timeout=30).json()
    assert not (tracker.get("active_loop") or {}).get("name")  # no complaint form was started
    database = f"sqlite:///{var / 'panchayat.db'}"
    with db.session_scope(database) as session:
        nlu_inbox.collect(session, f"sqlite:///{var / 'trackers.db'}")
        (item,) = [i for i in nlu_inbox.inbox(session) if "ছয়" in i.text]
        assert (item.reason, item.guess_intent) == ("set_aside", parse["request_set_aside"]["name"])


def test_a_retrained_model_is_handed_to_the_running_server(assistant):
    """scripts/retrain.py, once a candidate is active, has the running Rasa server load it (PUT /model)."""
    import importlib.util

    url, _ = assistant
    spec = importlib.util.spec_from_file_location("retrain", ROOT / "scripts" / "retrain.py")
    retrain = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(retrain)
    assert retrain.load_into_running_servers(MODEL, [url, "http://127.0.0.1:9"]) == {url: True,
                                                                                 "http://127.0.0.1:9": False}
    status = requests.get(f"{url}/status", timeout=10).json()
    assert status["model_file"].endswith("panchayat.tar.gz")
    assert say(url, "919800000992", "নমস্কার") != []  # and it answers with the model it loaded
